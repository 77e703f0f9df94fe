import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// GStreamer as a player of what Kerf writes and serves (`playbin`, whose hlsdemux/dashdemux
/// most embedded and set-top stacks still run, and `playbin3` with hlsdemux2/dashdemux2, with
/// synchronising sinks): the presentations `PlayerTests` plays, and how plays are run and judged.
/// A play counts when the position advances by at least half the wall time and is still
/// advancing at the end, decoded video reaches the sink and no error is posted
/// (`GStreamerPlayer.Playback.problems`).
enum GStreamerPlays {
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
    /// each play, by "element URL". HTTPS URLs are played trusting `authorities` (a PEM file).
    static func play(_ urls: [String], seconds: Double, minimumAdvance: Double? = nil, durations: [String: Double] = [:],
                     concurrently: Int = 10, trusting authorities: String? = nil,
                     elements: (String) -> [GStreamerPlayer.Element] = { _ in GStreamerPlayer.Element.allCases })
        async throws -> [String: [String]] {
        var problems: [String: [String]] = [:]
        let plays = urls.flatMap { url in elements(url).map { (url, $0) } }
        for start in stride(from: 0, to: plays.count, by: concurrently) {
            try await withThrowingTaskGroup(of: (String, [String]).self) { group in
                for (url, element) in plays[start..<min(start + concurrently, plays.count)] {
                    group.addTask {
                        let playback = try await GStreamerPlayer.play(url, element, seconds: seconds,
                                                                      trusting: url.hasPrefix("https:") ? authorities : nil)
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
}
