import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import KerfLive
@testable import KerfOrigin
import KerfTestTags

/// Held answers written in one burst (`AnswerBurst`): a connection behind `BurstFlush` flushes
/// once at the burst's end, and at once outside a burst.
@Suite(.tags(.unit)) struct AnswerBurstTests {
    /// Counts the flushes that reach the socket's side of the pipeline.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var flushes = 0

        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    static func connection() throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(BurstFlush())
        return (channel, counter)
    }

    @Test func flushesOfABurstLeaveOnceAtItsEnd() throws {
        let (first, firstCounter) = try Self.connection()
        let (second, secondCounter) = try Self.connection()
        var seenInside: [ByteBuffer?] = []
        AnswerBurst.run {
            for index in 0..<3 {
                first.writeAndFlush(ByteBuffer(string: "stream \(index)"), promise: nil)
                second.writeAndFlush(ByteBuffer(string: "other \(index)"), promise: nil)
            }
            // A burst inside a burst is part of it.
            AnswerBurst.run { first.writeAndFlush(ByteBuffer(string: "nested"), promise: nil) }
            seenInside.append(try? first.readOutbound(as: ByteBuffer.self))
            seenInside.append(try? second.readOutbound(as: ByteBuffer.self))
        }
        // Nothing left while the burst ran; then everything, with one flush per connection.
        #expect(seenInside == [nil, nil])
        #expect(firstCounter.flushes == 1)
        #expect(secondCounter.flushes == 1)
        var sent: [String] = []
        while let buffer = try first.readOutbound(as: ByteBuffer.self) { sent.append(String(buffer: buffer)) }
        #expect(sent == ["stream 0", "stream 1", "stream 2", "nested"])

        // Outside a burst a flush goes at once.
        first.writeAndFlush(ByteBuffer(string: "alone"), promise: nil)
        #expect(firstCounter.flushes == 2)
        #expect(try first.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "alone")
        _ = try first.finish()
        _ = try second.finish()
    }

    /// One publication meeting several conditions held on one event loop (a playlist reload and
    /// the hinted part of one HTTP/2 connection) resumes them all in one burst.
    @Test func conditionsMetTogetherOnOneLoopShareABurst() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let loop = EmbeddedEventLoop()
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let steps = Mutex<[String]>([])
        for (name, part) in [("reload", nil), ("part", 0)] as [(String, Int?)] {
            let ticket = channel.held.hold(for: channel.window, until: .now + .seconds(60),
                                           .published(folder: "video", sequence: next, part: part), on: loop) { _ in
                steps.withLock { $0.append(name) }
                // Stands for a connection's flush: put off to the end of the burst.
                _ = AnswerBurst.deferUntilEnd { steps.withLock { $0.append("flush after \(name)") } }
            }
            #expect(ticket != nil)
        }
        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        loop.run()
        let seen = steps.withLock { $0 }
        #expect(seen.count == 4 && seen.prefix(2).allSatisfy { !$0.hasPrefix("flush") } && seen.suffix(2).allSatisfy { $0.hasPrefix("flush") },
                "\(seen)")
        #expect(channel.held.largestRecentRelease?.requests == 2)
    }

    /// A loop resumes the requests a publication releases in the order they were held, across
    /// the conditions it meets (so connections close in the order they came), with the ones
    /// taken back (their clients gone) left out, however many.
    @Test func releasedRequestsAreResumedInTheOrderTheyWereHeld() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let loop = EmbeddedEventLoop()
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let resumed = Mutex<[Int]>([])
        var tickets: [Int: HeldRequests.Ticket] = [:]
        func hold(_ index: Int) {
            let condition = HeldRequests.Condition.published(folder: "video", sequence: next, part: index.isMultiple(of: 2) ? nil : 0)
            tickets[index] = channel.held.hold(for: channel.window, until: .now + .seconds(60), condition, on: loop) { ready in
                if ready { resumed.withLock { $0.append(index) } }
            }
        }
        // Most of the first 200 taken back (each condition's list then keeps only its holders),
        // then more held and some of those taken back.
        for index in 0..<200 { hold(index) }
        let gone = Set((0..<200).filter { $0 < 140 || $0.isMultiple(of: 3) } + [201, 205, 219])
        for index in 0..<200 where gone.contains(index) { channel.held.cancel(tickets[index]!) }
        for index in 200..<220 { hold(index) }
        for index in [201, 205, 219] { channel.held.cancel(tickets[index]!) }
        #expect(tickets.count == 220)
        #expect(channel.held.count == 220 - gone.count)
        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        loop.run()
        #expect(resumed.withLock { $0 } == (0..<220).filter { !gone.contains($0) })
        #expect(channel.held.count == 0)
    }

    /// The sweep answers (false) the requests whose deadline passed, in the order they were
    /// held, and leaves the others to the publication.
    @Test func expiredRequestsLeaveInOrderAndTheOthersStay() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let loop = EmbeddedEventLoop()
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let answers = Mutex<[(index: Int, ready: Bool)]>([])
        let now = ContinuousClock.now
        // Three in four expire after 10 s (most of the list: it is compacted), the rest after 100 s.
        for index in 0..<200 {
            let ticket = channel.held.hold(for: channel.window, until: now + .seconds(index.isMultiple(of: 4) ? 100 : 10),
                                           .published(folder: "video", sequence: next, part: nil), on: loop) { ready in
                answers.withLock { $0.append((index, ready)) }
            }
            #expect(ticket != nil)
        }
        channel.held.expire(now: now + .seconds(50))
        loop.run()
        #expect(answers.withLock { $0.map(\.index) } == (0..<200).filter { !$0.isMultiple(of: 4) })
        #expect(answers.withLock { $0.allSatisfy { !$0.ready } })
        #expect(channel.held.count == 50)
        answers.withLock { $0 = [] }
        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        loop.run()
        #expect(answers.withLock { $0.map(\.index) } == (0..<200).filter { $0.isMultiple(of: 4) })
        #expect(answers.withLock { $0.allSatisfy(\.ready) })
    }
}
