import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// A transcoded channel codes a keyframe where a splice is asked for: the break starts within a
/// frame of the time asked, not at the next keyframe of the grid. Real time: the ladder encodes
/// while the test waits.
@Suite(.serialized, .tags(.realtime)) struct LiveSpliceTranscodeTests {
    @Test func transcodedChannelCutsOnThePictureAsked() async throws {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-splice-ladder").path
        configuration.adminToken = LiveSpliceAPITests.token
        configuration.channels["news"] = .init(input: Fixtures.path("mpeg2_mp2.ts"), segmentDuration: 2, window: 30)
        configuration.channels["news"]?.ladder = try .parse("180p:150k")
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        try await Live.waitForPlaylist(origin, segments: 1, within: 20)
        // 2.3 s from now: off the 2 s grid whatever the epoch's start.
        let asked = (Date().timeIntervalSince1970 + 2.3).rounded(.down) + 0.3
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = formatter.string(from: Date(timeIntervalSince1970: asked))
        let (status, answer) = try await LiveSpliceAPITests.post(origin, "{\"time\": \"\(date)\", \"duration\": 2}")
        #expect(status == 202, "\(answer)")
        let playlist = try await Live.waitForPlaylist(origin, segments: 1, containing: "SCTE35-IN", within: 20)
        let listed = try LiveSpliceAPITests.listedBreak(playlist)
        let start = try LiveSpliceAPITests.seconds(try #require(listed.out["START-DATE"]))
        // The first picture at or after the time asked (25 fps): within one frame.
        #expect(start >= asked - 0.001 && start < asked + 0.04, "asked \(date), cut at \(listed.out["START-DATE"] ?? "")")
        #expect(listed.segment.date == listed.out["START-DATE"])
    }
}
