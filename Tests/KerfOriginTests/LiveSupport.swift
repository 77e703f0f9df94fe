import Foundation
import KerfTestSupport
import KerfTranscode
@testable import KerfOrigin

/// Live channel test helpers: the feed, origins, players, the schema oracle.
enum Live {
    /// A real-time 25 fps test pattern with a tone, 1-second GOPs.
    static let feed = ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
                       "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                       "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
                       "-c:a", "aac", "-b:a", "64k"]

    /// A loopback port free now (chosen by the kernel, not at random).
    static func port() throws -> Int { try freePort() }

    /// The feed as MPEG-TS over TCP to an origin whose input is `tcp://127.0.0.1:<port>?listen=1`
    /// (lossless, unlike UDP on a loaded machine); runs until stopped.
    static func feed(to port: Int, _ extra: [String] = []) async throws -> FeedRelay {
        let relay = try FeedRelay("ffmpeg", feed + extra + ["-f", "mpegts", "pipe:1"])
        try await relay.connect(port: port)
        return relay
    }

    /// The input URL of an origin fed by `feed(to:)`.
    static func listening(_ port: Int) -> String { "tcp://127.0.0.1:\(port)?listen=1" }

    static func origin(input: String, window: Double = 30, ladder: String? = nil,
                       formats: Set<OriginConfiguration.Format> = [.hls, .dash]) async throws -> RunningOrigin {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        configuration.channels["news"] = .init(input: input, segmentDuration: 2, window: window)
        configuration.channels["news"]?.formats = formats
        configuration.channels["news"]?.ladder = try ladder.map { try Ladder.parse($0) }
        return try await RunningOrigin(configuration)
    }

    /// Waits until the channel's video playlist lists `count` segments (and, when asked, a line
    /// containing `marker`); returns the playlist.
    @discardableResult
    static func waitForPlaylist(_ origin: RunningOrigin, segments count: Int, containing marker: String? = nil,
                                within seconds: Double = 60, folder: String = "video_180p") async throws -> String {
        var last = ""
        do {
            try await waitUntil("the live playlist listing \(count) segments", timeout: .seconds(seconds), poll: .milliseconds(250)) {
                let response = try await curl([origin.base + "/live/news/\(folder)/playlist.m3u8"])
                last = String(decoding: response.body, as: UTF8.self)
                let listed = last.split(separator: "\n").filter { $0.hasPrefix("seg_") }.count
                return response.status == 200 && listed >= count && (marker.map { last.contains($0) } ?? true)
            }
        } catch is TimedOut {
            throw CommandError(message: "the live playlist did not reach \(count) segments: \(last)")
        }
        return last
    }

    /// xmllint (an oracle nobody here wrote) checks an MPD against DASH-MPD.xsd.
    static func schemaCheck(_ mpd: Data) async throws -> Command.Result {
        let file = try Fixtures.temporaryDirectory("kerf-live-mpd").appendingPathComponent("live.mpd")
        try mpd.write(to: file)
        return try await Command.runDetached("xmllint", ["--noout", "--schema", Fixtures.dashSchema, file.path])
    }

    /// Decodes `seconds` of a live URL with ffmpeg; returns the presentation times (seconds) of
    /// the video frames it decoded.
    static func play(_ url: String, seconds: Int) async throws -> [Double] {
        let result = try await Command.runDetached("ffmpeg", ["-v", "error", "-i", url, "-t", String(seconds), "-map", "0:v:0",
                                                  "-f", "framecrc", "-"])
        guard result.status == 0 else { throw CommandError(message: "ffmpeg failed on \(url): \(result.stderr)") }
        var times: [Double] = []
        var timebase = 1.0 / 25
        for line in result.stdout.split(separator: "\n") {
            if line.hasPrefix("#tb 0:") {
                let parts = line.dropFirst(6).split(separator: "/").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                if parts.count == 2 { timebase = parts[0] / parts[1] }
            }
            guard !line.hasPrefix("#") else { continue }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.count > 2, let pts = Double(fields[2]) { times.append(pts * timebase) }
        }
        return times
    }
}
