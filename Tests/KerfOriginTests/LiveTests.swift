import Foundation
import KerfTestSupport
import KerfTestTags
import KerfValidate
import Testing
@testable import KerfOrigin

/// Live channels end to end: ffmpeg encodes a test pattern in real time and sends it to the
/// origin (MPEG-TS over TCP, or an SRT/RTMP server Kerf pulls from); ffmpeg plays what the origin
/// publishes, the validator watches it live, xmllint checks the MPD. One at a time: each runs
/// real-time encoders, and timing checks need the 2 cores not to be shared by a dozen of them.
@Suite(.serialized, .tags(.realtime)) struct LiveTests {
    /// A channel with a ladder re-encodes its input (here MPEG-2/MP2 looped from a file) into
    /// the rungs, with segments cut on the keyframes the encoders were told to make.
    @Test func channelLadderReencodesTheFeed() async throws {
        let origin = try await Live.origin(input: Fixtures.path("mpeg2_mp2.ts"), ladder: "360p:500k,180p:150k")
        defer { Task { await origin.stop() } }
        try await Live.waitForPlaylist(origin, segments: 3)
        let live = origin.base + "/live/news"
        let master = String(decoding: try await curl([live + "/master.m3u8"]).body, as: UTF8.self)
        #expect(master.contains("RESOLUTION=640x360") && master.contains("RESOLUTION=320x180"), "\(master)")
        #expect(master.contains("avc1.") && master.contains("mp4a.40.2"), "\(master)")
        let playlist = String(decoding: try await curl([live + "/video_360p/playlist.m3u8"]).body, as: UTF8.self)
        // Keyframes on the boundaries: 2 s segments (a loop of the file adds its audio's overhang).
        let durations = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
            .compactMap { Double($0.dropFirst(8).prefix { $0 != "," }) }
        #expect(durations.count >= 3 && durations.allSatisfy { $0 >= 1.99 && $0 <= 2.1 }, "\(playlist)")
        #expect(durations.filter { $0 == 2 }.count * 2 >= durations.count, "\(playlist)")
        let frames = try await Live.play(live + "/master.m3u8", seconds: 6)
        #expect(frames.count >= 145 && frames.count <= 152, "\(frames.count) frames")
        var validator = Validator(schemaPath: Fixtures.dashSchema)
        validator.live = 6
        for manifest in ["/master.m3u8", "/manifest.mpd"] {
            let report = try await validator.validate(live + manifest)
            #expect(report.errors == 0, "\(manifest): \(report.findings.map(\.message))")
        }
    }

    /// A pushed MPEG-TS feed plays (exact frame counts: the feed is TCP, nothing is lost),
    /// validates and caches.
    @Test func pushedChannelPlaysValidatesAndCaches() async throws {
        let port = try Live.port()
        let origin = try await Live.origin(input: Live.listening(port), formats: [.hls, .dash, .hlsTS])
        defer { Task { await origin.stop() } }
        let feed = try await Live.feed(to: port)
        defer { feed.stop() }
        try await Live.waitForPlaylist(origin, segments: 3)

        let live = origin.base + "/live/news"
        async let hlsFrames = Live.play(live + "/master.m3u8", seconds: 20)
        async let dashFrames = Live.play(live + "/manifest.mpd", seconds: 20)
        async let tsFrames = Live.play(live + "/master-ts.m3u8", seconds: 20)
        var validator = Validator(schemaPath: Fixtures.dashSchema)
        validator.live = 30
        async let hlsReport = validator.validate(live + "/master.m3u8")
        async let dashReport = validator.validate(live + "/manifest.mpd")
        async let tsReport = validator.validate(live + "/master-ts.m3u8")

        // 20 s of 25 fps video, within a frame or two.
        for frames in [try await hlsFrames, try await dashFrames, try await tsFrames] {
            #expect(frames.count >= 495 && frames.count <= 502, "\(frames.count) frames")
        }
        for report in [try await hlsReport, try await dashReport, try await tsReport] {
            #expect(report.errors == 0, "\(report.findings.map(\.message))")
            #expect(report.findings.filter { $0.severity == .warning }.isEmpty, "\(report.findings.map(\.message))")
        }

        // The MPD is dynamic and valid against the schema (xmllint: an oracle nobody here wrote).
        let mpd = try await curl([live + "/manifest.mpd"])
        #expect(mpd.status == 200)
        #expect(mpd.headers["content-type"] == "application/dash+xml")
        #expect(mpd.headers["cache-control"] == "public, max-age=1")
        let text = String(decoding: mpd.body, as: UTF8.self)
        #expect(text.contains("type=\"dynamic\""))
        #expect(text.contains("value=\"http://127.0.0.1:\(origin.port)/time\""))
        let lint = try await Live.schemaCheck(mpd.body)
        #expect(lint.status == 0, "\(lint.stderr)")

        // Caching: playlists half a target duration, segments immutable, 404s one second.
        let playlist = try await curl([live + "/video_180p/playlist.m3u8"])
        #expect(playlist.headers["cache-control"] == "public, max-age=1")
        #expect(playlist.headers["content-type"] == "application/vnd.apple.mpegurl")
        let body = String(decoding: playlist.body, as: UTF8.self)
        let segment = try #require(body.split(separator: "\n").last { $0.hasPrefix("seg_") })
        let media = try await curl([live + "/video_180p/" + segment])
        #expect(media.status == 200)
        #expect(media.headers["content-type"] == "video/mp4")
        #expect(media.headers["cache-control"] == "public, max-age=31536000, immutable")
        let etag = try #require(media.headers["etag"])
        #expect(try await curl(["-H", "If-None-Match: \(etag)", live + "/video_180p/" + segment]).status == 304)
        let part = try await curl(["-H", "Range: bytes=0-99", live + "/video_180p/" + segment])
        #expect(part.status == 206)
        #expect(part.body == media.body.prefix(100))
        // Playlists and the MPD change in place: a Range is ignored and they are sent whole, so
        // no cache joins the start of one version to the rest of the next.
        #expect(media.headers["accept-ranges"] == "bytes" && playlist.headers["accept-ranges"] == "none")
        for manifest in ["/video_180p/playlist.m3u8", "/master.m3u8", "/manifest.mpd"] {
            let ranged = try await curl(["-H", "Range: bytes=0-9", live + manifest])
            let text = String(decoding: ranged.body, as: UTF8.self)
            #expect(ranged.status == 200 && ranged.headers["accept-ranges"] == "none" && ranged.headers["content-range"] == nil, "\(manifest)")
            #expect(text.hasSuffix("\n") && ranged.body.count > 100 && ranged.headers["content-length"] == String(ranged.body.count), "\(manifest)")
        }
        let epoch = try #require(body.split(separator: "\n").first { $0.hasPrefix("#EXT-X-MAP:URI=\"init_") })
            .dropFirst("#EXT-X-MAP:URI=\"".count).dropLast()
        let audio = try await curl([live + "/audio_und_aac/" + epoch])
        #expect(audio.status == 200)
        #expect(audio.headers["content-type"] == "audio/mp4")
        // MPEG-TS variant: video and audio muxed, cut and named like the CMAF video segments.
        let tsMaster = String(decoding: try await curl([live + "/master-ts.m3u8"]).body, as: UTF8.self)
        #expect(tsMaster.contains("CODECS=\"avc1.42c00c,mp4a.40.2\",RESOLUTION=320x180"), "\(tsMaster)")
        let tsPlaylist = String(decoding: try await curl([live + "/ts_video_180p/playlist.m3u8"]).body, as: UTF8.self)
        #expect(!tsPlaylist.contains("#EXT-X-MAP"))
        let tsNames = tsPlaylist.split(separator: "\n").filter { $0.hasPrefix("seg_") }.map { $0.dropLast(3) }
        let videoNames = String(decoding: try await curl([live + "/video_180p/playlist.m3u8"]).body, as: UTF8.self)
            .split(separator: "\n").filter { $0.hasPrefix("seg_") }.map { $0.dropLast(4) }
        #expect(tsNames.count >= 3 && tsNames.dropFirst().allSatisfy(videoNames.contains), "\(tsNames) \(videoNames)")
        let tsSegment = try await curl([live + "/ts_video_180p/" + (tsNames.last ?? "") + ".ts"])
        #expect(tsSegment.status == 200)
        #expect(tsSegment.headers["content-type"] == "video/mp2t")
        #expect(tsSegment.headers["cache-control"] == "public, max-age=31536000, immutable")
        let tsFile = try Fixtures.temporaryDirectory("kerf-live-ts").appendingPathComponent("seg.ts")
        try tsSegment.body.write(to: tsFile)
        let tsProbe = try await Command.runDetached("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name:format=duration",
                                                               "-of", "csv=p=0", tsFile.path])
        #expect(Array(tsProbe.stdout.split(separator: "\n").map(String.init).prefix(2)) == ["h264", "aac"], "\(tsProbe.stdout)")
        let tsDuration = Double(tsProbe.stdout.split(separator: "\n").last ?? "") ?? 0
        #expect(abs(tsDuration - 2) < 0.1, "\(tsProbe.stdout)")
        #expect(try await curl([live + "/ts_video_180p/init_1.mp4"]).status == 404)

        let future = try await curl([live + "/video_180p/seg_999999999999.m4s"])
        #expect(future.status == 404)
        #expect(future.headers["cache-control"] == "public, max-age=1")
        #expect(try await curl([origin.base + "/live/other/master.m3u8"]).status == 404)
        #expect(try await curl([live + "/../news/master.m3u8"]).status == 404)
        let metrics = String(decoding: try await curl([origin.base + "/metrics"]).body, as: UTF8.self)
        let produced = metrics.split(separator: "\n").first { $0.hasPrefix("kerf_live_segments_total{channel=\"news\"}") }
        #expect((produced?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 10, "\(produced ?? "no kerf_live_segments_total")")
        #expect(metrics.contains("kerf_live_ingest_bitrate_bps{channel=\"news\"}"))

        // The segment ffprobe reads after its init segment is H.264 at the listed duration.
        let joined = Fixtures.root.appendingPathComponent(".build/live-\(port).mp4")
        defer { try? FileManager.default.removeItem(at: joined) }
        try (try await curl([live + "/video_180p/" + epoch]).body + media.body).write(to: joined)
        let probe = try await Command.runDetached("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", joined.path])
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h264,320,180")
    }

    /// A Kerf channel pulling from an SRT listener and from an RTMP server (ffmpeg in both roles).
    @Test(arguments: ["srt", "rtmp"]) func pulledChannelPlays(scheme: String) async throws {
        let port = try Live.port()
        let (serve, pull): ([String], String) = scheme == "srt"
            ? (["-f", "mpegts", "srt://127.0.0.1:\(port)?mode=listener"], "srt://127.0.0.1:\(port)?mode=caller")
            : (["-f", "flv", "-listen", "1", "rtmp://127.0.0.1:\(port)/live/feed"], "rtmp://127.0.0.1:\(port)/live/feed")
        let feed = try BackgroundProcess("ffmpeg", Live.feed + serve)
        defer { feed.stop() }
        let origin = try await Live.origin(input: pull)
        defer { Task { await origin.stop() } }
        try await Live.waitForPlaylist(origin, segments: 3)
        let frames = try await Live.play(origin.base + "/live/news/master.m3u8", seconds: 8)
        #expect(frames.count >= 195 && frames.count <= 202, "\(frames.count) frames")
    }
}
