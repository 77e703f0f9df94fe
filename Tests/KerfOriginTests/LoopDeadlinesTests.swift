import KerfTestTags
import NIOCore
import NIOEmbedded
import Testing
@testable import KerfOrigin

/// One event loop's connection deadlines behind one NIO timer: they come due in order and on
/// time, a cancel forgets the action and what it holds, and forgotten entries do not pile up.
@Suite(.tags(.unit)) struct LoopDeadlinesTests {
    final class Witness {}

    @Test func deadlinesComeDueInOrderAndOnTime() {
        let loop = EmbeddedEventLoop()
        let deadlines = LoopDeadlines(loop: loop)
        var fired: [String] = []
        _ = deadlines.schedule(in: .seconds(30)) { fired.append("idle") }
        _ = deadlines.schedule(in: .seconds(10)) { fired.append("head") }
        // Earlier than the loop's timer: it moves.
        _ = deadlines.schedule(in: .seconds(2)) { fired.append("handshake") }
        _ = deadlines.schedule(in: .seconds(10)) { fired.append("second head") }
        loop.advanceTime(by: .milliseconds(1_999))
        #expect(fired.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired == ["handshake"])
        loop.advanceTime(by: .seconds(8))
        #expect(fired == ["handshake", "head", "second head"])
        loop.advanceTime(by: .seconds(19))
        #expect(fired.count == 3)
        loop.advanceTime(by: .seconds(1))
        #expect(fired == ["handshake", "head", "second head", "idle"])
        #expect(deadlines.count == 0)
    }

    @Test func aCancelledDeadlineNeitherFiresNorKeepsWhatItHolds() {
        let loop = EmbeddedEventLoop()
        let deadlines = LoopDeadlines(loop: loop)
        var fired = 0
        weak var held: Witness?
        var token: LoopDeadlines.Token?
        do {
            let witness = Witness()
            held = witness
            token = deadlines.schedule(in: .seconds(5)) { _ = witness; fired += 1 }
        }
        let kept = deadlines.schedule(in: .seconds(5)) { fired += 10 }
        #expect(held != nil)
        deadlines.cancel(token)
        #expect(held == nil)
        // A second cancel, and one of a deadline already due, do nothing.
        deadlines.cancel(token)
        loop.advanceTime(by: .seconds(5))
        #expect(fired == 10)
        deadlines.cancel(kept)
        #expect(deadlines.count == 0)
    }

    /// An action may schedule the next check (the idle check does), also for a time already
    /// past, which comes due in the same turn.
    @Test func anActionSchedulesTheNext() {
        let loop = EmbeddedEventLoop()
        let deadlines = LoopDeadlines(loop: loop)
        var checks: [UInt64] = []
        func check() {
            checks.append(loop.now.uptimeNanoseconds / 1_000_000_000)
            if checks.count < 3 { _ = deadlines.schedule(in: .seconds(1), check) }
        }
        _ = deadlines.schedule(in: .seconds(1), check)
        var late = false
        _ = deadlines.schedule(in: .seconds(1)) {
            _ = deadlines.schedule(at: loop.now - .seconds(1)) { late = true }
        }
        let start = loop.now.uptimeNanoseconds / 1_000_000_000
        loop.advanceTime(by: .seconds(1))
        #expect(late)
        loop.advanceTime(by: .seconds(5))
        #expect(checks == [start + 1, start + 2, start + 3])
    }

    /// A storm's connections each cancel their deadline as they close: the entries they leave
    /// are dropped long before they would come due.
    @Test func cancelledEntriesDoNotPileUp() {
        let loop = EmbeddedEventLoop()
        let deadlines = LoopDeadlines(loop: loop)
        var fired = 0
        let tokens = (0..<10_000).map { _ in deadlines.schedule(in: .seconds(30)) { fired += 1 } }
        for token in tokens.dropLast(10) { deadlines.cancel(token) }
        #expect(deadlines.count == 10)
        #expect(deadlines.entries <= 64 + 2 * 10)
        loop.advanceTime(by: .seconds(30))
        #expect(fired == 10)
        #expect(deadlines.entries == 0)
    }

    @Test func eachLoopHasItsOwn() {
        let first = EmbeddedEventLoop(), second = EmbeddedEventLoop()
        #expect(LoopDeadlines.on(first) === LoopDeadlines.on(first))
        #expect(LoopDeadlines.on(first) !== LoopDeadlines.on(second))
    }
}
