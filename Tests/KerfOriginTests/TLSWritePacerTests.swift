import KerfTestTags
import NIOCore
import NIOEmbedded
import Testing
@testable import KerfOrigin

/// `TLSWritePacer`: writes pass on while the socket is writable (small ones gathered into
/// records), large ones a slice at a time,
/// the rest held in order until writability comes back; promises go with their last byte; a
/// close hands what is held to TLS first. Over real TLS in `OriginTLSTests`.
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

    @Test func smallWritesLeaveGatheredWhenFlushed() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        channel.write(Self.bytes(100), promise: nil)
        let second = channel.write(Self.bytes(200, from: 100))
        #expect(try Self.written(channel).isEmpty, "nothing leaves before the flush")
        channel.flush()
        let out = try Self.written(channel)
        #expect(out == [Self.bytes(300)], "a head and its small body make one TLS record")
        #expect(pacer.heldBytes == 0)
        try second.wait()
        // A lone small write leaves as it was written.
        channel.writeAndFlush(Self.bytes(50), promise: nil)
        #expect(try Self.written(channel) == [Self.bytes(50)])
    }

    /// Small writes fill records of up to `record` bytes, in order; each promise completes
    /// once its bytes have gone, in write order.
    @Test func smallWritesFillRecordsAndKeepTheirPromises() throws {
        let (channel, _) = try Self.channel()
        defer { _ = try? channel.finish() }
        let size = 3_000
        var order: [Int] = []
        for index in 0..<10 {
            channel.write(Self.bytes(size, from: index * size)).whenSuccess { order.append(index) }
        }
        #expect(order.isEmpty)
        channel.flush()
        let out = try Self.written(channel)
        #expect(out.map(\.readableBytes) == [5 * size, 5 * size], "five of 3,000 bytes fit a record, a sixth does not")
        #expect(Self.joined(out) == Self.bytes(10 * size))
        #expect(order == Array(0..<10))
    }

    /// A write larger than `gatherBelow` goes as it is, after what was gathered before it.
    @Test func aLargerWriteFollowsWhatWasGathered() throws {
        let (channel, _) = try Self.channel()
        defer { _ = try? channel.finish() }
        let large = TLSWritePacer.gatherBelow + 1
        channel.write(Self.bytes(10), promise: nil)
        channel.write(Self.bytes(20, from: 10), promise: nil)
        channel.write(Self.bytes(large, from: 30), promise: nil)
        channel.write(Self.bytes(40, from: 30 + large), promise: nil)
        channel.flush()
        let out = try Self.written(channel)
        #expect(out.map(\.readableBytes) == [30, large, 40])
        #expect(Self.joined(out) == Self.bytes(70 + large))
    }

    /// Small writes held while the socket was full are gathered as they are handed on.
    @Test func heldSmallWritesLeaveGathered() throws {
        let (channel, pacer) = try Self.channel()
        defer { _ = try? channel.finish() }
        channel.isWritable = false
        var promises: [EventLoopFuture<Void>] = []
        for index in 0..<20 { promises.append(channel.write(Self.bytes(1_000, from: index * 1_000))) }
        channel.flush()
        #expect(try Self.written(channel).isEmpty)
        #expect(pacer.heldBytes == 20_000)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let out = try Self.written(channel)
        #expect(out.map(\.readableBytes) == [16_000, 4_000])
        #expect(Self.joined(out) == Self.bytes(20_000))
        #expect(promises.allSatisfy(Self.completed))
    }

    /// The socket gone before a flush: gathered writes fail.
    @Test func gatheredWritesFailWhenTheSocketIsGone() throws {
        let (channel, _) = try Self.channel()
        var failures = 0
        for start in [0, 10] {
            channel.write(Self.bytes(10, from: start)).whenFailure { failures += $0 as? ChannelError == .ioOnClosedChannel ? 1 : 0 }
        }
        channel.pipeline.fireChannelInactive()
        #expect(failures == 2)
        _ = try? channel.finish()
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

    @Test func aCloseHandsWhatIsHeldToTLSFirst() throws {
        let (channel, pacer) = try Self.channel()
        channel.isWritable = false
        let held = channel.writeAndFlush(Self.bytes(3 * TLSWritePacer.slice))
        #expect(pacer.heldBytes == 3 * TLSWritePacer.slice)
        try channel.close().wait()
        try held.wait()
        #expect(Self.joined(try Self.written(channel)) == Self.bytes(3 * TLSWritePacer.slice))

        // A socket already gone: what is held fails.
        let (other, _) = try Self.channel()
        other.isWritable = false
        let lost = other.writeAndFlush(Self.bytes(3 * TLSWritePacer.slice))
        other.pipeline.fireChannelInactive()
        #expect(throws: ChannelError.ioOnClosedChannel) { try lost.wait() }
        _ = try? other.finish()
    }

    /// Below the pacer, a socket that stops being writable once `room` bytes are flushed into
    /// it (until the test drains it).
    final class Socket: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var room: Int
        private var pending = 0
        private var unflushed = 0
        init(room: Int) { self.room = room }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            unflushed += unwrapOutboundIn(data).readableBytes
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            pending += unflushed
            unflushed = 0
            context.flush()
            if pending >= room, let channel = context.channel as? EmbeddedChannel { channel.isWritable = false }
        }

        /// The client read everything: writable again.
        func drained(_ channel: EmbeddedChannel) {
            pending = 0
            channel.isWritable = true
            channel.pipeline.fireChannelWritabilityChanged()
        }
    }

    static func channel(socketRoom room: Int) throws -> (EmbeddedChannel, TLSWritePacer, Socket) {
        let channel = EmbeddedChannel()
        let socket = Socket(room: room), pacer = TLSWritePacer()
        try channel.pipeline.syncOperations.addHandler(socket)
        try channel.pipeline.syncOperations.addHandler(pacer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return (channel, pacer, socket)
    }

    @Test func theSocketTakesSlicesOnlyWhileItHasRoom() throws {
        let slice = TLSWritePacer.slice
        let (channel, pacer, socket) = try Self.channel(socketRoom: 2 * slice)
        defer { _ = try? channel.finish() }
        let size = 10 * slice
        let done = channel.writeAndFlush(Self.bytes(size))
        var out = try Self.written(channel)
        #expect(out.map(\.readableBytes) == [slice, slice], "two slices fill the socket")
        #expect(pacer.heldBytes == 8 * slice)
        var rounds = 0
        while pacer.heldBytes > 0, rounds < 10 {
            socket.drained(channel)
            let more = try Self.written(channel)
            #expect(more.map(\.readableBytes) == [slice, slice])
            out += more
            rounds += 1
        }
        #expect(rounds == 4)
        try done.wait()
        #expect(Self.joined(out) == Self.bytes(size))
    }

    /// Many small writes before one flush (HTTP/2 DATA frames up to the client's window): a
    /// slice of them goes, the rest waits for the socket.
    @Test func smallWritesBeyondASliceBeforeAFlushAreHeld() throws {
        let slice = TLSWritePacer.slice, frame = 16_384
        let (channel, pacer, socket) = try Self.channel(socketRoom: slice)
        defer { _ = try? channel.finish() }
        var promises: [EventLoopFuture<Void>] = []
        for index in 0..<10 { promises.append(channel.write(Self.bytes(frame, from: index * frame))) }
        #expect(pacer.heldBytes == 10 * frame - slice, "no more than a slice passes before the flush")
        channel.flush()
        var out = try Self.written(channel)
        #expect(out.reduce(0) { $0 + $1.readableBytes } == slice)
        #expect(pacer.heldBytes == 10 * frame - slice)
        while pacer.heldBytes > 0 {
            socket.drained(channel)
            out += try Self.written(channel)
        }
        for promise in promises { try promise.wait() }
        #expect(Self.joined(out) == Self.bytes(10 * frame))
    }

    /// A write made from a promise's callback while slices are being handed on comes after them.
    @Test func aWriteFromAPromiseCallbackKeepsItsPlace() throws {
        let slice = TLSWritePacer.slice
        let (channel, _, socket) = try Self.channel(socketRoom: 2 * slice)
        defer { _ = try? channel.finish() }
        let first = channel.write(Self.bytes(3 * slice))
        first.whenSuccess { channel.writeAndFlush(Self.bytes(100, from: 3 * slice), promise: nil) }
        channel.flush()
        var out = try Self.written(channel)
        socket.drained(channel)
        out += try Self.written(channel)
        socket.drained(channel)
        out += try Self.written(channel)
        #expect(Self.joined(out) == Self.bytes(3 * slice + 100))
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

        // Closing hands the held bytes on: the writer goes on (and finds the channel closed).
        channel.isWritable = false
        channel.writeAndFlush(Self.bytes(2 * TLSWritePacer.readyBelow), promise: nil)
        let waiting = pacer.whenReady(channel.eventLoop)
        #expect(!Self.completed(waiting))
        try channel.close().wait()
        try waiting.wait()
        // The socket gone: a waiting writer fails.
        let (other, otherPacer) = try Self.channel()
        other.isWritable = false
        other.writeAndFlush(Self.bytes(2 * TLSWritePacer.readyBelow), promise: nil)
        let failing = otherPacer.whenReady(other.eventLoop)
        other.pipeline.fireChannelInactive()
        #expect(throws: ChannelError.ioOnClosedChannel) { try failing.wait() }
        _ = try? other.finish()
    }
}
