import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfLive

/// A splice the operator asked for ahead of time survives a restart of the origin: the
/// channel journals the splices it has not cut yet, and the restarted channel (a minute later on
/// its `ManualClock`) cuts the break where it was asked, under its id.
@Suite(.tags(.unit)) struct LiveSpliceRestartTests {
    @Test func aSpliceAskedForAheadIsCutAfterARestart() throws {
        let start = ClockedChannelTests.start
        let archive = try Fixtures.temporaryDirectory("kerf-splice-archive").appendingPathComponent("news")
        defer { try? FileManager.default.removeItem(at: archive.deletingLastPathComponent()) }
        // 70 s into the channel: after the restart below (60 s later on the clock).
        let asked = MediaTime(value: 70, timescale: 1)
        let once = JumpOnce()
        let first = try ClockedChannelTests.run(ManualClock(start), archive: archive.path, during: { channel in
            guard channel.statistics.withLock(\.connected), once.first() else { return }
            _ = try? channel.splice(.init(id: "planned", duration: MediaTime(value: 4, timescale: 1), time: .channel(asked)))
        }) { ($0.presentation.tracks["video_360p"]?.segments.count ?? 0) >= 3 }
        #expect(first.presentation.markers.isEmpty)
        let journal = try String(contentsOf: archive.appendingPathComponent("journal.jsonl"), encoding: .utf8)
        #expect(journal.contains(#""pendingSplices""#) && journal.contains(#""planned""#))

        let second = try ClockedChannelTests.run(ManualClock(start + 60), archive: archive.path) { window in
            window.presentation.markers.contains { $0.id == "planned" && $0.end != nil }
        }
        let marker = try #require(second.presentation.markers.first { $0.id == "planned" })
        #expect(marker.signalledStart == asked)
        // The 10 s fixture has a keyframe every 2 s: the break starts and ends on them.
        let video = try #require(second.presentation.tracks["video_360p"]).segments.map(\.start)
        #expect(video.contains(marker.start) && marker.end.map { video.contains($0) } == true)
        #expect((marker.start - asked).seconds >= 0 && (marker.start - asked).seconds < 2.1, "\(marker.start.seconds)")
    }
}
