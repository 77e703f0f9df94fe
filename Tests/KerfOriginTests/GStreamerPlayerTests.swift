import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// What Kerf writes and serves, played by GStreamer with synchronising sinks (`playbin`, whose
/// hlsdemux/dashdemux most embedded and set-top stacks still run, and `playbin3` with
/// hlsdemux2/dashdemux2): packages of every kind from `kerf serve`'s VOD root, and live channels
/// whose window has already slid. A play counts when the position advances by at least half the
/// wall time and is still advancing at the end, decoded video reaches the sink and no error is
/// posted (`GStreamerPlayer.Playback.problems`).
///
/// Real-time layer: players render at the pace of the clock and stall when the machine is busy
/// with the other layers' encoders, so these run alone (ten plays at a time: each takes little CPU).
@Suite(.serialized, .tags(.realtime)) struct GStreamerPlayerTests {
    static let fixtures = (ladder: [Fixtures.path("ladder_360p.mp4"), Fixtures.path("ladder_540p.mp4"), Fixtures.path("ladder_audio.m4a")],
                           subtitles: Fixtures.path("two_languages_subs.mp4"), mezzanine: Fixtures.path("mpeg2_mp2.ts"))

    /// Packages the presentations the players get into `root`: a CMAF ladder with its MPEG-TS
    /// variants, single files with byte ranges, `$Time$` templates, subtitles, a transcoded ladder.
    static func package(into root: URL) throws {
        let jobs: [(String, [String])] = [
            ("ladder", fixtures.ladder + ["--formats", "hls,dash,hls-ts"]),
            ("single", [fixtures.ladder[0], fixtures.ladder[2], "--single-file"]),
            ("time", [fixtures.ladder[0], fixtures.ladder[2], "--formats", "dash", "--segment-template", "time"]),
            ("subtitles", [fixtures.subtitles]),
            ("transcoded", [fixtures.mezzanine, "--ladder", "360p:500k,180p:150k"]),
        ]
        for (name, arguments) in jobs {
            let result = try Command.run(Fixtures.kerf, ["package"] + arguments + ["-o", root.appendingPathComponent(name).path, "--segment-duration", "2"])
            try #require(result.status == 0, "kerf package \(name): \(result.stderr)")
        }
    }

    /// Plays every URL in playbin and playbin3 for `seconds`, `concurrently` plays at a time
    /// (a play of these small renditions takes about 7 % of a core); returns the problems of
    /// each play, by "element URL".
    static func play(_ urls: [String], seconds: Double, minimumAdvance: Double? = nil, durations: [String: Double] = [:],
                     concurrently: Int = 10,
                     elements: (String) -> [GStreamerPlayer.Element] = { _ in GStreamerPlayer.Element.allCases })
        async throws -> [String: [String]] {
        var problems: [String: [String]] = [:]
        let plays = urls.flatMap { url in elements(url).map { (url, $0) } }
        for start in stride(from: 0, to: plays.count, by: concurrently) {
            try await withThrowingTaskGroup(of: (String, [String]).self) { group in
                for (url, element) in plays[start..<min(start + concurrently, plays.count)] {
                    group.addTask {
                        let playback = try await GStreamerPlayer.play(url, element, seconds: seconds)
                        let duration = durations.first { url.contains($0.key) }?.value
                        return ("\(element) \(url)", playback.problems(seconds: seconds, minimumAdvance: minimumAdvance, duration: duration))
                    }
                }
                for try await (name, found) in group { problems[name] = found }
            }
        }
        return problems
    }

    /// Waits until each channel's playlist has dropped two segments it listed: a player joining
    /// then no longer finds the channel's first segment listed.
    static func waitForSlidingWindows(_ origin: RunningOrigin, channels: [String]) async throws {
        for name in channels {
            var first: Int?
            try await waitUntil("\(name)'s window to slide", timeout: .seconds(60), poll: .milliseconds(250)) {
                let playlist = String(decoding: try await curl([origin.base + "/live/\(name)/video_360p/playlist.m3u8"]).body, as: UTF8.self)
                guard let sequence = playlist.firstMatch(of: /#EXT-X-MEDIA-SEQUENCE:([0-9]+)/).flatMap({ Int($0.1) }) else { return false }
                first = first ?? sequence
                return sequence >= first! + 2
            }
        }
    }

    @Test func packagesPlay() async throws {
        let root = try Fixtures.temporaryDirectory("kerf-players")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.package(into: root)
        var configuration = OriginConfiguration()
        configuration.root = root.path
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let vod = origin.base + "/vod/"
        let urls = ["ladder/master.m3u8", "ladder/manifest.mpd", "ladder/master-ts.m3u8", "single/master.m3u8", "single/manifest.mpd",
                    "time/manifest.mpd", "subtitles/master.m3u8", "subtitles/manifest.mpd", "transcoded/master.m3u8",
                    "transcoded/manifest.mpd"].map { vod + $0 }
        // The MPEG-2 mezzanine lasts 6 s: its ladder may end before the 8 s play does.
        let problems = try await Self.play(urls, seconds: 8, durations: ["transcoded/": 6])
        #expect(problems.count == urls.count * 2)
        for (play, found) in problems.sorted(by: { $0.key < $1.key }) { #expect(found.isEmpty, "\(play): \(found)") }
    }

    /// The players can fail: a package missing one video segment does not play through.
    @Test func aPackageMissingASegmentFails() async throws {
        let root = try Fixtures.temporaryDirectory("kerf-players-broken")
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try Command.run(Fixtures.kerf, ["package", Self.fixtures.ladder[0], Self.fixtures.ladder[2], "-o",
                                                     root.appendingPathComponent("broken").path, "--segment-duration", "2"])
        try #require(result.status == 0, "\(result.stderr)")
        try FileManager.default.removeItem(at: root.appendingPathComponent("broken/video_360p/seg_2.m4s"))
        var configuration = OriginConfiguration()
        configuration.root = root.path
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let urls = ["broken/master.m3u8", "broken/manifest.mpd"].map { origin.base + "/vod/" + $0 }
        let problems = try await Self.play(urls, seconds: 8)
        #expect(problems.count == 4)
        for (play, found) in problems { #expect(!found.isEmpty, "\(play) played a package without its second segment") }
    }

    /// Live HLS, LL-HLS, DASH and LL-DASH, 20 s each once the window has slid past the
    /// channel's first segment (a player joining then must find the live edge on its own).
    /// GStreamer's hlsdemux (playbin) does not map fMP4 times to playlist positions (it takes
    /// the first listed segment as time 0 and renders nothing of a sliding window), so playbin
    /// plays the channels' MPEG-TS variants, playbin3 the CMAF ones.
    @Test func liveChannelsPlay() async throws {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-players-live").path
        for (name, part) in [("live", nil), ("lowlatency", 0.5)] as [(String, Double?)] {
            var channel = OriginConfiguration.Channel(input: Fixtures.path("h264_aac_10s.mp4"), segmentDuration: 2, window: 6)
            channel.formats = [.hls, .dash, .hlsTS]
            channel.partDuration = part
            configuration.channels[name] = channel
        }
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let live = origin.base + "/live/"
        try await Self.waitForSlidingWindows(origin, channels: ["live", "lowlatency"])
        let urls = ["live/master.m3u8", "live/master-ts.m3u8", "live/manifest.mpd",
                    "lowlatency/master.m3u8", "lowlatency/master-ts.m3u8", "lowlatency/manifest.mpd"].map { live + $0 }
        let problems = try await Self.play(urls, seconds: 20, minimumAdvance: 15) { url in
            url.hasSuffix("master.m3u8") ? [.playbin3] : url.hasSuffix("master-ts.m3u8") ? [.playbin] : [.playbin, .playbin3]
        }
        #expect(problems.count == 8)
        for (play, found) in problems.sorted(by: { $0.key < $1.key }) { #expect(found.isEmpty, "\(play): \(found)") }
    }
}
