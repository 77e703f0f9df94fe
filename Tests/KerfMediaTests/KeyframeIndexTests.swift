import KerfCore
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfMedia

/// Keyframe indexes read from containers at open time, without reading packets.
@Suite(.tags(.unit)) struct KeyframeIndexTests {
    @Test func anMP4IndexListsEverySyncSampleByDecodeTime() throws {
        let input = try MediaInput(url: Fixtures.path("h264_irregular_gop.mp4"))
        let index = try #require(input.keyframeIndex(track: 0))
        #expect(index.sampleCount == 250)
        // Forced keyframes at 0, 1.32, 2.08, 4.76, 5.2, 7.96 and 9.4 s, decoded two frames
        // (80 ms) before they are presented.
        let milliseconds = index.keyframeTimes.map { $0.rescaled(to: 1000).value }
        #expect(milliseconds == [-80, 1240, 2000, 4680, 5120, 7880, 9320])
        #expect(input.keyframeIndex(track: 1) == nil, "audio has no keyframe index")
        #expect(input.keyframeIndex(track: 7) == nil)
    }

    @Test func containersWithoutACompleteIndexGiveNone() throws {
        let ts = try MediaInput(url: Fixtures.path("mpeg2_mp2.ts"))
        #expect(ts.keyframeIndex(track: 0) == nil)
    }

    /// Reading afterwards is unaffected: the index is copied, not borrowed.
    @Test func readingTheIndexLeavesPacketsAsTheyWere() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let index = try #require(input.keyframeIndex(track: 0))
        #expect(index.keyframeTimes.count == 5)
        let packet = Packet()
        var count = 0
        while try input.read(into: packet) == .packet { count += 1 }
        #expect(count == 250 + 470)
    }
}
