import KerfTestTags
import NIOCore
import NIOEmbedded
import Testing
@testable import KerfOrigin

/// `TLSWritePacer`: writes pass on while the socket is writable, large ones a slice at a time,
/// the rest held in order until writability comes back; promises go with their last byte;
/// closing fails what is held, a half-close waits for it. Over real TLS in `OriginTLSTests`.
@Suite(.tags(.unit)) struct TLSWritePacerTests {
    static func channel() throws -> (EmbeddedChannel, TLSWritePacer) {
        let channel = EmbeddedChannel()
        let pacer = TLSWritePacer()
        try channel.pipeline.syncOperations.addHandler(pacer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return (channel, pacer)
    }

    /// Bytes numbered so that any reordering or loss shows.
    static func bytes(_ count: Int, from start: Int = 0) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: ($0 + start) % 251) })
    }

    /// Every buffer written out so far, in order.
    static func written(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(buffer) }
        return out
    }

    /// Whether the future has completed (on the embedded loop, callbacks of a completed
    /// future run at once).
    static func completed(_ future: EventLoopFuture<Void>) -> Bool {
        var completed = false
        future.whenComplete { _ in completed = true }
        return completed
    }

    static func joined(_ buffers: [ByteBuffer]) -> ByteBuffer {
        var all = ByteBuffer()
        for var buffer in buffers { all.writeBuffer(&buffer) }
        return all
    }

    @Test func smallWritesPassOnUnchanged() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        channel.write(Self.bytes(100), promise: nil)
        let second = channel.write(Self.bytes(200, from: 100))
        #expect(try Self.written(channel).isEmpty, "nothing leaves before the flush")
        channel.flush()
        let out = try Self.written(channel)
        #expect(out == [Self.bytes(100), Self.bytes(200, from: 100)])
        #expect(pacer.heldBytes == 0)
        try second.wait()
    }

    @Test func aLargeWriteLeavesInSlicesWhileTheSocketIsWritable() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        let size = 5 * TLSWritePacer.slice + 123
        let done = channel.writeAndFlush(Self.bytes(size))
        let out = try Self.written(channel)
        #expect(out.count == 6)
        #expect(out.allSatisfy { $0.readableBytes <= TLSWritePacer.slice })
        #expect(Self.joined(out) == Self.bytes(size))
        #expect(pacer.heldBytes == 0)
        try done.wait()
    }

    @Test func heldWritesWaitForWritabilityAndKeepTheirOrder() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        let size = 4 * TLSWritePacer.slice
        let large = channel.write(Self.bytes(size))
        channel.isWritable = false
        channel.flush()
        // The first slice went as it was written; the rest waits for the socket.
        #expect(try Self.written(channel).map(\.readableBytes) == [TLSWritePacer.slice])
        #expect(pacer.heldBytes == size - TLSWritePacer.slice)
        let small = channel.writeAndFlush(Self.bytes(10, from: size))
        #expect(try Self.written(channel).isEmpty, "a write behind held ones waits with them")
        var largeDone = false, smallDone = false
        large.whenSuccess { largeDone = true }
        small.whenSuccess {
            #expect(largeDone, "promises complete in write order")
            smallDone = true
        }
        #expect(!largeDone && !smallDone)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let rest = try Self.written(channel)
        #expect(rest.allSatisfy { $0.readableBytes <= TLSWritePacer.slice })
        var all = Self.bytes(TLSWritePacer.slice)
        var tail = Self.joined(rest)
        all.writeBuffer(&tail)
        var expected = Self.bytes(size)
        var ten = Self.bytes(10, from: size)
        expected.writeBuffer(&ten)
        #expect(all == expected)
        #expect(largeDone && smallDone)
        #expect(pacer.heldBytes == 0)
    }

    @Test func heldWritesLeaveOnlyOnceFlushed() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        channel.isWritable = false
        channel.write(Self.bytes(1000), promise: nil)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try Self.written(channel).isEmpty)
        #expect(pacer.heldBytes == 1000)
        channel.flush()
        #expect(try Self.written(channel) == [Self.bytes(1000)])
    }

    @Test func closingFailsWhatIsHeldAndAHalfCloseWaitsForIt() throws {
        let (channel, _) = try Self.channel()
        channel.isWritable = false
        let held = channel.writeAndFlush(Self.bytes(2 * TLSWritePacer.slice))
        let halfClose = channel.close(mode: .output)
        #expect(channel.isActive, "the half-close waits for the held bytes")
        var closedOutput = false
        halfClose.whenComplete { _ in closedOutput = true }
        #expect(!closedOutput)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        try held.wait()
        #expect(closedOutput, "the half-close follows the held bytes")
        _ = try? channel.finish()

        let (other, _) = try Self.channel()
        other.isWritable = false
        let lost = other.writeAndFlush(Self.bytes(3 * TLSWritePacer.slice))
        try other.close().wait()
        #expect(throws: ChannelError.ioOnClosedChannel) { try lost.wait() }
    }

    @Test func writersWaitUntilLittleIsHeld() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        #expect(Self.completed(pacer.whenReady(channel.eventLoop)))
        channel.isWritable = false
        channel.writeAndFlush(Self.bytes(TLSWritePacer.readyBelow + TLSWritePacer.slice), promise: nil)
        let ready = TLSWritePacer.ready(channel)
        channel.embeddedEventLoop.run()
        #expect(!Self.completed(ready))
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(Self.completed(ready))
        try ready.wait()

        channel.isWritable = false
        channel.writeAndFlush(Self.bytes(2 * TLSWritePacer.readyBelow), promise: nil)
        let waiting = pacer.whenReady(channel.eventLoop)
        try channel.close().wait()
        #expect(throws: ChannelError.ioOnClosedChannel) { try waiting.wait() }
    }
}
