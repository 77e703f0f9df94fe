import Foundation
import KerfTestSupport
import Testing
import KerfTestTags

/// Live-object accounting runs in its own process (`kerf-leakcheck`) so that other tests
/// running in parallel cannot disturb the global counters.
@Suite(.tags(.integration)) struct LeakTests {
    @Test func decodeAndReencodeReleasesEveryObject() throws {
        let tool = Fixtures.binaryDirectory.appendingPathComponent("kerf-leakcheck").path
        let result = try Command.run(tool, [Fixtures.path("h264_aac_10s.mp4")])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("decoded frames: #0=250 #1=469"))
        #expect(result.stdout.contains("encoded packets: #0=250"))
        #expect(result.stdout.contains("live objects after release: packets=0 frames=0 contexts=0"))
    }
}
