import KerfTestTags
import Testing
@testable import KerfOrigin

/// The origin gives back the memory a burst of connections leaves behind.
@Suite(.tags(.unit)) struct HeapTrimTests {
    /// A burst that ends (the connections fall by 64 or more, to half the peak or less) trims,
    /// and again at the next looks while the connections stay low (what closed connections free
    /// late); steady or rising load does not; a new burst must build up again.
    @Test func aBurstThatEndsTrimsThenFollowsUp() {
        var policy = HeapTrimPolicy()
        policy.followUps = 2
        let period = Duration.seconds(2)
        let load = [0, 10, 500, 4_000, 4_096, 4_000, 3_000, 1_000, 900, 800, 700, 10, 0, 0, 0]
        let actions = load.map { policy.observe(openConnections: $0, elapsed: period) }
        // 4,096 → 1,000 is the first fall to a quarter: trim there and at the two looks after
        // (900 and 800 are under half of 4,096), not at 700 (the peak is now 1,000, and 700 is
        // not half of it); 10 is a burst's end again (from 1,000), followed up twice.
        #expect(actions == [.wait, .wait, .wait, .wait, .wait, .wait, .wait, .trim, .trim, .trim, .wait, .trim, .trim, .trim, .wait])
        // A burst building up again ends the follow-ups.
        var rising = HeapTrimPolicy()
        let risingActions = [4_096, 100, 3_000, 3_000].map { rising.observe(openConnections: $0, elapsed: period) }
        #expect(risingActions == [.wait, .trim, .wait, .wait])
        // Small fluctuations never trim.
        let small = [30, 60, 20, 50, 10, 40].map { policy.observe(openConnections: $0, elapsed: period) }
        #expect(small.allSatisfy { $0 == .wait })
    }

    /// A burst that rose and fell between two looks counts by its high-water mark.
    @Test func aBurstBetweenTwoLooksIsSeen() {
        var policy = HeapTrimPolicy()
        #expect(policy.observe(openConnections: 5, highest: 5, elapsed: .seconds(2)) == .wait)
        #expect(policy.observe(openConnections: 4, highest: 2_000, elapsed: .seconds(2)) == .trim)
        let connections = ConnectionCount(limit: 10_000)
        for _ in 0..<300 { _ = connections.open() }
        for _ in 0..<298 { connections.close() }
        #expect(connections.takeHighWater() == 300)
        #expect(connections.takeHighWater() == 2)
    }

    /// Without bursts, a trim every `interval` (ten minutes by default).
    @Test func quietServersTrimEveryInterval() {
        var policy = HeapTrimPolicy()
        let trims = (0..<900).filter { _ in policy.observe(openConnections: 3, elapsed: .seconds(2)) == .trim }
        #expect(trims == [299, 599, 899])
    }
}
