import KerfTestTags
import Testing
@testable import KerfLive

@Suite(.tags(.unit)) struct ReconnectBackoffTests {
    @Test func waitsDoubleUpToTheMaximumAndResetAfterALongConnection() {
        var backoff = ReconnectBackoff()
        let waits = (0..<9).map { _ in backoff.ended(after: 1) }
        #expect(waits == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
        // A connection that lasted over a minute forgets the failures before it.
        #expect(backoff.ended(after: 61) == 0.5)
        #expect(backoff.ended(after: 60) == 1)
    }
}
