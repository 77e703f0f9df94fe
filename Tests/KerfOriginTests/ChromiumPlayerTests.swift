import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// What Kerf writes and serves, played by headless Chromium (Debian's `chromium`): HLS through
/// its own player (`<video src=…m3u8>`), DASH through Media Source Extensions fed by a small MPD
/// reader of this project's (`Tests/Browser/player.html`, `mpd-reader.js`, `player.js`). The
/// packages are `GStreamerPlayerTests`'; live channels play once their window has slid.
/// Real-time layer, like `GStreamerPlayerTests`; the page plays three entries at a time.
@Suite(.serialized, .tags(.realtime)) struct ChromiumPlayerTests {
    /// What the page POSTs back (see `Tests/Browser/player.js`).
    struct Report: Decodable {
        struct Result: Decodable {
            var name: String
            /// [wall seconds, currentTime, decoded frames, readyState]
            var samples: [[Double]]
            var error: String?
            var canPlay: String
        }
        var results: [Result]
    }

    /// Why a play does not count as playing for `seconds` (empty when it does): the media time
    /// must advance by at least half the wall time and still be advancing in the last second,
    /// frames must be decoded and no error may occur; one shorter than the play may end once
    /// played through.
    static func problems(_ result: Report.Result, seconds: Double, duration: Double? = nil) -> [String] {
        var problems: [String] = []
        if let error = result.error { problems.append("error: \(error)") }
        guard let first = result.samples.first(where: { $0[1] > 0 || $0[2] > 0 }) ?? result.samples.first,
              let last = result.samples.last else { return problems + ["no samples"] }
        if last[2] <= first[2] { problems.append("no frame decoded after the first sample (\(last[2]))") }
        if let duration, last[1] >= duration - 1 { return problems }
        let advanced = last[1] - first[1]
        if advanced < seconds / 2 { problems.append("currentTime advanced \(advanced) s in \(seconds) s") }
        let recent = result.samples.filter { $0[0] >= last[0] - 1 }
        if let earliest = recent.first, last[1] <= earliest[1] { problems.append("currentTime stopped at \(last[1]) s") }
        return problems
    }

    @Test func packagesAndLiveChannelsPlay() async throws {
        let scratch = try Fixtures.temporaryDirectory("kerf-chromium-players")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let root = scratch.appendingPathComponent("root"), site = scratch.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try GStreamerPlayerTests.package(into: root)
        // The control that proves the check can fail: a ladder without its second video segments.
        let broken = root.appendingPathComponent("broken")
        try FileManager.default.copyItem(at: root.appendingPathComponent("ladder"), to: broken)
        for folder in ["video_360p", "video_540p"] {
            try FileManager.default.removeItem(at: broken.appendingPathComponent("\(folder)/seg_2.m4s"))
            try FileManager.default.removeItem(at: broken.appendingPathComponent("ts_\(folder)/seg_2.ts"))
        }
        var configuration = OriginConfiguration()
        configuration.root = root.path
        for (name, part) in [("live", nil), ("lowlatency", 0.5)] as [(String, Double?)] {
            var channel = OriginConfiguration.Channel(input: Fixtures.path("h264_aac_10s.mp4"), segmentDuration: 2, window: 6)
            channel.partDuration = part
            configuration.channels[name] = channel
        }
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        try await GStreamerPlayerTests.waitForSlidingWindows(origin, channels: ["live", "lowlatency"])

        let vod: [(String, String)] = [("ladder/master.m3u8", "hls"), ("ladder/manifest.mpd", "dash"), ("ladder/master-ts.m3u8", "hls"),
                                       ("single/master.m3u8", "hls"), ("single/manifest.mpd", "dash"), ("time/manifest.mpd", "dash"),
                                       ("subtitles/master.m3u8", "hls"), ("subtitles/manifest.mpd", "dash"),
                                       ("transcoded/master.m3u8", "hls"), ("transcoded/manifest.mpd", "dash")]
        let broke: [(String, String)] = [("broken/master.m3u8", "hls"), ("broken/manifest.mpd", "dash")]
        let live: [(String, String)] = [("live/master.m3u8", "hls"), ("live/manifest.mpd", "dash"),
                                        ("lowlatency/master.m3u8", "hls"), ("lowlatency/manifest.mpd", "dash")]
        let plays = vod.map { ["name": $0.0, "kind": $0.1, "src": "\(origin.base)/vod/\($0.0)", "seconds": 8] as [String: Any] }
            + broke.map { ["name": $0.0, "kind": $0.1, "src": "\(origin.base)/vod/\($0.0)", "seconds": 8] as [String: Any] }
            + live.map { ["name": $0.0, "kind": $0.1, "src": "\(origin.base)/live/\($0.0)", "seconds": 10] as [String: Any] }
        let data = try await HeadlessChromium.runPage("player.html", files: ["player.js", "mpd-reader.js", "mse.js"], job: ["plays": plays, "parallel": 6],
                                                      site: site, scratch: scratch, timeout: .seconds(300))
        let report = try JSONDecoder().decode(Report.self, from: data)
        #expect(report.results.map(\.name) == plays.map { $0["name"] as? String ?? "" })
        for result in report.results {
            let live = result.name.hasPrefix("live/") || result.name.hasPrefix("lowlatency/")
            let found = Self.problems(result, seconds: live ? 10 : 8, duration: result.name.hasPrefix("transcoded/") ? 6 : nil)
            if result.name.hasPrefix("broken/") {
                #expect(!found.isEmpty, "\(result.name) played without its second segment")
            } else {
                #expect(found.isEmpty, "\(result.name): \(found)")
            }
        }
    }
}
