import Foundation
import KerfCore
import KerfManifest
import KerfPackager
import NIOCore
import KerfTestSupport
import KerfValidate
import Testing
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP
import KerfTranscode

/// Live channels end to end: ffmpeg encodes a test pattern in real time and sends it to the
/// origin (UDP MPEG-TS, or an SRT/RTMP server Kerf pulls from); ffmpeg plays what the origin
/// publishes, the validator watches it live, xmllint checks the MPD. One at a time: each runs
/// real-time encoders, and timing checks need the 2 cores not to be shared by a dozen of them.
@Suite(.serialized) struct LiveTests {
    /// A real-time 25 fps test pattern with a tone, 1-second GOPs.
    static let feed = ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
                       "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                       "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
                       "-c:a", "aac", "-b:a", "64k"]

    static func port() -> Int { Int.random(in: 20_000..<45_000) }

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
                                within seconds: Double = 40, folder: String = "video_180p") async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            let response = try await curl([origin.base + "/live/news/\(folder)/playlist.m3u8"])
            last = String(decoding: response.body, as: UTF8.self)
            let listed = last.split(separator: "\n").filter { $0.hasPrefix("seg_") }.count
            if response.status == 200, listed >= count, marker.map({ last.contains($0) }) ?? true { return last }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CommandError(message: "the live playlist did not reach \(count) segments: \(last)")
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

    /// A channel with a ladder re-encodes its input (here MPEG-2/MP2 looped from a file) into
    /// the rungs, with segments cut on the keyframes the encoders were told to make.
    @Test func channelLadderReencodesTheFeed() async throws {
        let origin = try await Self.origin(input: Fixtures.path("mpeg2_mp2.ts"), ladder: "360p:500k,180p:150k")
        defer { Task { await origin.stop() } }
        try await Self.waitForPlaylist(origin, segments: 3)
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
        let frames = try await Self.play(live + "/master.m3u8", seconds: 6)
        #expect(frames.count >= 145 && frames.count <= 152, "\(frames.count) frames")
        var validator = Validator(schemaPath: Fixtures.dashSchema)
        validator.live = 6
        for manifest in ["/master.m3u8", "/manifest.mpd"] {
            let report = try await validator.validate(live + manifest)
            #expect(report.errors == 0, "\(manifest): \(report.findings.map(\.message))")
        }
    }

    @Test func udpChannelPlaysValidatesAndCaches() async throws {
        let port = Self.port()
        let origin = try await Self.origin(input: "udp://127.0.0.1:\(port)", formats: [.hls, .dash, .hlsTS])
        defer { Task { await origin.stop() } }
        let feed = try BackgroundProcess("ffmpeg", Self.feed + ["-f", "mpegts", "udp://127.0.0.1:\(port)?pkt_size=1316"])
        defer { feed.stop() }
        try await Self.waitForPlaylist(origin, segments: 3)

        let live = origin.base + "/live/news"
        async let hlsFrames = Self.play(live + "/master.m3u8", seconds: 20)
        async let dashFrames = Self.play(live + "/manifest.mpd", seconds: 20)
        async let tsFrames = Self.play(live + "/master-ts.m3u8", seconds: 20)
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
        let lint = try await Self.schemaCheck(mpd.body)
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

    /// The feed stops for 10 s and comes back: the playlists carry a discontinuity, the MPD a
    /// second Period, and players that were watching (HLS and DASH) go on through the gap.
    @Test func feedOutageStartsANewEpoch() async throws {
        let port = Self.port()
        let origin = try await Self.origin(input: "udp://127.0.0.1:\(port)", window: 60)
        defer { Task { await origin.stop() } }
        let url = "udp://127.0.0.1:\(port)?pkt_size=1316"
        var feed = try BackgroundProcess("ffmpeg", Self.feed + ["-f", "mpegts", url])
        defer { feed.stop() }
        try await Self.waitForPlaylist(origin, segments: 3)
        async let watched = Self.play(origin.base + "/live/news/master.m3u8", seconds: 30)
        async let watchedDASH = Self.play(origin.base + "/live/news/manifest.mpd", seconds: 30)
        try await Task.sleep(for: .seconds(2))
        feed.stop()
        // Everything published before the outage (the segment in progress is completed at the
        // disconnection).
        let before = try await Self.waitForPlaylist(origin, segments: 3)
        let mediaBefore = Double(before.split(separator: "\n").filter { $0.hasPrefix("seg_") }.count + 1) * 2
        try await Task.sleep(for: .seconds(10))
        feed = try BackgroundProcess("ffmpeg", Self.feed + ["-f", "mpegts", url])
        let playlist = try await Self.waitForPlaylist(origin, segments: 6, containing: "#EXT-X-DISCONTINUITY")
        #expect(playlist.components(separatedBy: "#EXT-X-MAP:URI=\"init_").count == 3)
        #expect(playlist.contains("#EXT-X-DISCONTINUITY-SEQUENCE") == false)
        let mpd = String(decoding: try await curl([origin.base + "/live/news/manifest.mpd"]).body, as: UTF8.self)
        #expect(mpd.components(separatedBy: "<Period id=\"").count == 3)

        // The player that was watching decoded 30 s of video: far more than existed before the
        // outage, so it went on through the discontinuity.
        let times = try await watched
        #expect(times.count >= 745, "\(times.count) frames")
        #expect(Double(times.count) / 25 > mediaBefore + 10, "\(times.count) frames, \(mediaBefore) s before the outage")
        // The DASH player's timeline has the outage in it (the second Period starts when the feed
        // came back) and it decoded the new Period's frames after the gap.
        let dash = try await watchedDASH
        let gaps = zip(dash, dash.dropFirst()).map { $1 - $0 }
        let outage = gaps.firstIndex { $0 > 8 }
        #expect(outage != nil, "no gap of 8 s or more in \(dash.count) DASH frames")
        if let outage {
            #expect(outage + 1 >= 50, "\(outage + 1) DASH frames before the outage")
            #expect(dash.count - outage - 1 >= 125, "\(dash.count - outage - 1) DASH frames after the outage")
        }
    }

    /// With `archive:`, the window is on disk: a restarted origin serves the same playlist and
    /// the same segment bytes at once (read back from the archive), then goes on with a
    /// discontinuity and increasing sequence numbers; files that leave the window are deleted.
    @Test func archivedWindowSurvivesARestart() async throws {
        let archive = try Fixtures.temporaryDirectory("kerf-live-archive").appendingPathComponent("news").path
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        // 8 s listed: 3 segments even when a loop boundary makes one a little longer than 2 s.
        configuration.channels["news"] = .init(input: Fixtures.path("h264_aac_10s.mp4"), segmentDuration: 2, window: 8)
        configuration.channels["news"]?.archive = archive
        var origin = try await RunningOrigin(configuration)
        let before = try await Self.waitForPlaylist(origin, segments: 3, folder: "video_360p")
        let names = before.split(separator: "\n").filter { $0.hasPrefix("seg_") }.map(String.init)
        let segment = try await curl([origin.base + "/live/news/video_360p/" + names[0]])
        #expect(segment.status == 200)
        await origin.stop()
        let journal = try String(contentsOfFile: archive + "/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("\"segment\""))
        #expect(FileManager.default.fileExists(atPath: archive + "/video_360p/" + names[0]))
        // A journal line cut short (a crash while appending) ends the replay there, nothing more.
        try (journal + "{\"segment\":{\"fol").write(toFile: archive + "/journal.jsonl", atomically: true, encoding: .utf8)

        // The restarted origin's input never connects: what it serves comes from the archive.
        configuration.channels["news"]?.input = "udp://127.0.0.1:\(Self.port())"
        origin = try await RunningOrigin(configuration)
        let restored = try await curl([origin.base + "/live/news/video_360p/playlist.m3u8"])
        #expect(restored.status == 200)
        let restoredNames = String(decoding: restored.body, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("seg_") }.map(String.init)
        #expect(restoredNames.starts(with: names.suffix(restoredNames.count)) || names.contains(restoredNames.first ?? ""),
                "\(restoredNames) after \(names)")
        let again = try await curl([origin.base + "/live/news/video_360p/" + names[0]])
        #expect(again.status == 200)
        #expect(again.body == segment.body)
        #expect(again.headers["etag"] == segment.headers["etag"])
        let mpd = try await curl([origin.base + "/live/news/manifest.mpd"])
        #expect(mpd.status == 200)
        await origin.stop()

        // Restarted on the file again: a new epoch after the restored ones, sequence numbers go on.
        configuration.channels["news"]?.input = Fixtures.path("h264_aac_10s.mp4")
        let resumedOrigin = try await RunningOrigin(configuration)
        origin = resumedOrigin
        defer { Task { await resumedOrigin.stop() } }
        let resumed = try await Self.waitForPlaylist(origin, segments: 3, containing: "#EXT-X-DISCONTINUITY\n", folder: "video_360p")
        func sequence(_ playlist: String) -> Int {
            Int(playlist.split(separator: "\n").first { $0.hasPrefix("#EXT-X-MEDIA-SEQUENCE:") }?.dropFirst(22) ?? "") ?? -1
        }
        #expect(sequence(resumed) >= sequence(before), "\(resumed)")
    }

    /// The window's journal replayed into a fresh window renders the same playlists and MPD;
    /// segments that leave the window are reported for deletion, older bytes leave memory.
    @Test func windowJournalReplaysToTheSameDocuments() throws {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.width = 320
        info.height = 180
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video_180p", name: "video", language: nil)
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 6, timescale: 1),
                                memoryHorizon: MediaTime(value: 4, timescale: 1))
        var removed: [String] = []
        var now = 1_000_000.0
        for epochIndex in 0..<2 {
            let start = window.nextEpochStart(now: now)
            let epoch = window.beginEpoch(tracks: [track], start: start, now: now)
            window.addInit(folder: "video_180p", epoch: epoch.id, bytes: [UInt8](repeating: UInt8(epochIndex), count: 16), timescale: 90_000)
            for index in 0..<10 {
                let segment = LivePackager.Segment(track: 0, start: start.rescaled(to: 90_000) + MediaTime(value: Int64(index) * 180_000, timescale: 90_000),
                                                   duration: MediaTime(value: 180_000, timescale: 90_000), bytes: [UInt8](repeating: 7, count: 1000))
                now += 2
                removed += window.addSegment(folder: "video_180p", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: segment.bytes),
                                             etag: LiveWindow.etag(segment.bytes)).map(\.name)
                window.publish(now: now)
            }
        }
        // 40 s of media, 6 s listed, kept a window and a target duration more: the rest went,
        // with the first epoch's init segment.
        let kept = window.presentation.tracks["video_180p"]!.segments
        #expect(kept.count == 8, "\(kept.count)")
        #expect(removed.filter { $0.hasPrefix("seg_") }.count == 12, "\(removed)")
        #expect(removed.filter { $0.hasPrefix("init_") }.count == 1, "\(removed)")
        // Only segments ending within 4 s of the edge (the horizon) keep their bytes in memory.
        #expect(kept.filter { window.stored[$0.uri]?.body != nil }.count == 3)
        #expect(kept.suffix(3).allSatisfy { window.stored[$0.uri]?.body != nil })

        var copy = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 6, timescale: 1),
                              memoryHorizon: MediaTime(value: 4, timescale: 1))
        for record in window.records() {
            var initBytes: [UInt8]?
            if case .initialization(_, let epoch, _) = record { initBytes = [UInt8](repeating: epoch == window.epochs.last!.id ? 1 : 0, count: 16) }
            copy.replay(record, initBytes: initBytes)
        }
        #expect(copy.finishReplay(now: now).isEmpty)
        #expect(copy.documents["video_180p/playlist.m3u8"]?.body == window.documents["video_180p/playlist.m3u8"]?.body)
        #expect(copy.documents["master.m3u8"]?.body == window.documents["master.m3u8"]?.body)
        let mpd = try #require(window.mpd), copied = try #require(copy.mpd)
        #expect(copied.head + copied.tail == mpd.head + mpd.tail)
        // A new epoch after the replay continues the sequence numbers with a discontinuity.
        let next = copy.beginEpoch(tracks: [track], start: copy.nextEpochStart(now: now + 1), now: now + 1)
        copy.addInit(folder: "video_180p", epoch: next.id, bytes: [2], timescale: 90_000)
        let segment = LivePackager.Segment(track: 0, start: next.start.rescaled(to: 90_000), duration: MediaTime(value: 180_000, timescale: 90_000),
                                           bytes: [1, 2, 3])
        copy.addSegment(folder: "video_180p", epoch: next.id, segment: segment, body: ByteBuffer(bytes: [1, 2, 3]), etag: "\"x\"")
        #expect(copy.presentation.tracks["video_180p"]!.segments.last!.sequence == kept.last!.sequence + 1)
        #expect(copy.presentation.tracks["video_180p"]!.segments.last!.discontinuity)
    }

    /// A segment whose archive write failed keeps its bytes in memory past the horizon (memory
    /// is its only copy); it stays in the journal, so a restart numbers what follows alike.
    @Test func unarchivedSegmentStaysInMemory() throws {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video", name: "video", language: nil)
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 20, timescale: 1),
                                memoryHorizon: MediaTime(value: 4, timescale: 1))
        var now = 1_000_000.0
        let epoch = window.beginEpoch(tracks: [track], start: window.nextEpochStart(now: now), now: now)
        window.addInit(folder: "video", epoch: epoch.id, bytes: [0], timescale: 90_000)
        for index in 0..<8 {
            let segment = LivePackager.Segment(track: 0, start: epoch.start.rescaled(to: 90_000) + MediaTime(value: Int64(index) * 180_000, timescale: 90_000),
                                               duration: MediaTime(value: 180_000, timescale: 90_000), bytes: [UInt8(index)])
            now += 2
            window.addSegment(folder: "video", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: segment.bytes),
                              etag: LiveWindow.etag(segment.bytes))
            if index == 1 { window.keepInMemory(folder: "video", sequence: window.presentation.tracks["video"]!.segments.last!.sequence) }
        }
        let segments = window.presentation.tracks["video"]!.segments
        #expect(segments.count == 8)
        #expect(segments.map { window.stored[$0.uri]?.body != nil } == [false, true, false, false, false, true, true, true])
        let journaled = window.records().compactMap { record -> UInt64? in
            if case .segment(_, _, let sequence, _, _, _, _, _) = record { return sequence } else { return nil }
        }
        #expect(journaled == segments.map(\.sequence))
    }

    /// LL-HLS: parts listed with a preload hint and rendition reports; a request held for a
    /// future part is answered as soon as it exists and lists it; the hinted part itself is
    /// served when it exists; `_HLS_skip=YES` expands to the full playlist. LL-DASH: the segment
    /// in progress is sent in chunks, the MPD says so and validates. ffmpeg plays it and the
    /// validator finds no errors in either.
    @Test func lowLatencyPlaylistsBlockAndSkip() async throws {
        let port = Self.port()
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        configuration.channels["news"] = .init(input: "udp://127.0.0.1:\(port)", segmentDuration: 1, window: 20)
        configuration.channels["news"]?.partDuration = 0.25
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let feed = try BackgroundProcess("ffmpeg", Self.feed + ["-f", "mpegts", "udp://127.0.0.1:\(port)?pkt_size=1316"])
        defer { feed.stop() }
        let playlistURL = origin.base + "/live/news/video_180p/playlist.m3u8"
        let first = try await Self.waitForPlaylist(origin, segments: 3)
        #expect(first.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.000,PART-HOLD-BACK=0.750"))
        #expect(first.contains("#EXT-X-PART-INF:PART-TARGET=0.250"))
        #expect(first.contains("#EXT-X-RENDITION-REPORT:URI=\"../audio_und_aac/playlist.m3u8\",LAST-MSN="))
        #expect(first.contains(",INDEPENDENT=YES"))

        // Hold a request for the part after the next one: answered once it exists (within about
        // two part durations), listing it.
        func state(_ playlist: String) -> (msn: UInt64, parts: Int, hint: String)? {
            let lines = playlist.split(separator: "\n")
            guard let sequence = lines.first(where: { $0.hasPrefix("#EXT-X-MEDIA-SEQUENCE:") }).flatMap({ UInt64($0.dropFirst(22)) }),
                  let hint = lines.last(where: { $0.hasPrefix("#EXT-X-PRELOAD-HINT") }),
                  let lastURI = lines.lastIndex(where: { $0.hasPrefix("seg_") }) else { return nil }
            let segments = lines.filter { $0.hasPrefix("seg_") }.count
            let trailing = lines[lastURI...].filter { $0.hasPrefix("#EXT-X-PART:") }.count
            let uri = hint.split(separator: "\"")[1]
            return (sequence + UInt64(segments), trailing, String(uri))
        }
        let now = try #require(state(String(decoding: try await curl([playlistURL]).body, as: UTF8.self)))
        func satisfied(_ text: String) -> Bool {
            guard let later = state(text) else { return false }
            return later.msn > now.msn || later.parts >= now.parts + 2
        }
        // A poller notes when the part first shows in the plain playlist (every 20 ms).
        async let firstSeen: Date? = {
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline {
                if let text = try? await curl([playlistURL]), satisfied(String(decoding: text.body, as: UTF8.self)) { return Date() }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }()
        let held = try await curl([playlistURL + "?_HLS_msn=\(now.msn)&_HLS_part=\(now.parts + 1)"])
        let answered = Date()
        #expect(held.status == 200)
        let heldText = String(decoding: held.body, as: UTF8.self)
        let after = try #require(state(heldText))
        #expect(satisfied(heldText), "\(heldText)")
        // Answered within one part duration of the part existing (as a poller first saw it).
        let seen = try #require(await firstSeen)
        #expect(answered.timeIntervalSince(seen) < 0.25, "answered \(answered.timeIntervalSince(seen)) s after the part was listed")

        // The hinted part: the request waits for it, then gets its bytes (immutable). A hint at
        // a segment's end may name a part that never comes (the segment ends first): that is a
        // 404 as soon as the segment ends, and the next hint is tried.
        var hint = after.hint
        var servedHint = false
        for _ in 0..<4 where !servedHint {
            let hintStarted = Date()
            let hinted = try await curl([origin.base + "/live/news/video_180p/" + hint])
            #expect(Date().timeIntervalSince(hintStarted) < 3, "not answered before the hold's end")
            if hinted.status == 200 {
                #expect(hinted.body.count > 100)
                #expect(hinted.headers["cache-control"] == "public, max-age=31536000, immutable")
                servedHint = true
            } else {
                #expect(hinted.status == 404)
                hint = try #require(state(String(decoding: try await curl([playlistURL]).body, as: UTF8.self))).hint
            }
        }
        #expect(servedHint)

        // LL-DASH: the segment being written comes with chunked transfer encoding as its parts
        // are made, and is byte for byte the completed segment.
        // (The segment may complete between reading the hint and asking for it on a busy
        // machine: then it is asked for again at the next one.)
        var checkedChunked = false
        for _ in 0..<5 where !checkedChunked {
            let current = try #require(state(String(decoding: try await curl([playlistURL]).body, as: UTF8.self)))
            let inProgress = current.hint.split(separator: "_")[1]
            let segmentURL = origin.base + "/live/news/video_180p/seg_\(inProgress).m4s"
            let chunked = try await curl([segmentURL])
            guard chunked.headers["transfer-encoding"] == "chunked" else { continue }
            #expect(chunked.status == 200)
            let completed = try await curl([segmentURL])
            #expect(completed.headers["content-length"] == String(completed.body.count))
            #expect(chunked.body == completed.body && completed.body.count > 1000)
            checkedChunked = true
        }
        #expect(checkedChunked, "the segment in progress was never sent in chunks")
        let mpd = try await curl([origin.base + "/live/news/manifest.mpd"])
        let mpdText = String(decoding: mpd.body, as: UTF8.self)
        #expect(mpdText.contains("availabilityTimeOffset=\"0.75\""))
        #expect(mpdText.contains("availabilityTimeComplete=\"false\""))
        #expect(mpdText.contains("<Latency target=\"1500\""))
        #expect(mpdText.contains("<ProducerReferenceTime id=\"0\" type=\"encoder\" wallClockTime=\""))
        let lint = try await Self.schemaCheck(mpd.body)
        #expect(lint.status == 0, "\(lint.stderr)")

        // Refused parameters.
        #expect(try await curl([playlistURL + "?_HLS_msn=\(now.msn + 10)"]).status == 400)
        #expect(try await curl([playlistURL + "?_HLS_part=1"]).status == 400)

        // Delta update: once more than CAN-SKIP-UNTIL (6 s) is listed, older segments are skipped;
        // the skipped count plus what is listed is the full playlist.
        try await Self.waitForPlaylist(origin, segments: 9)
        var compared = false
        for _ in 0..<8 where !compared {
            let full = String(decoding: try await curl([playlistURL]).body, as: UTF8.self)
            let delta = String(decoding: try await curl([playlistURL + "?_HLS_skip=YES"]).body, as: UTF8.self)
            let again = String(decoding: try await curl([playlistURL]).body, as: UTF8.self)
            guard again == full else { continue }
            let fullURIs = full.split(separator: "\n").filter { $0.hasPrefix("seg_") }
            let deltaURIs = delta.split(separator: "\n").filter { $0.hasPrefix("seg_") }
            let skipped = delta.split(separator: "\n").first { $0.hasPrefix("#EXT-X-SKIP:SKIPPED-SEGMENTS=") }
                .flatMap { Int($0.dropFirst("#EXT-X-SKIP:SKIPPED-SEGMENTS=".count)) }
            #expect(delta.contains("#EXT-X-VERSION:9"))
            #expect((skipped ?? 0) > 0, "\(delta)")
            #expect(Array(fullURIs.dropFirst(skipped ?? 0)) == deltaURIs)
            #expect(delta.contains("#EXT-X-MAP:URI=\"init_"))
            compared = true
        }
        #expect(compared, "the playlist changed between every pair of requests")

        // ffmpeg (which ignores the low-latency tags) plays it; the validator finds no errors.
        async let frames = Self.play(origin.base + "/live/news/master.m3u8", seconds: 5)
        var validator = Validator(schemaPath: Fixtures.dashSchema)
        validator.live = 8
        async let dashReport = validator.validate(origin.base + "/live/news/manifest.mpd")
        let report = try await validator.validate(origin.base + "/live/news/master.m3u8")
        #expect(report.errors == 0, "\(report.findings.filter { $0.severity == .error }.map(\.message))")
        let mpdReport = try await dashReport
        #expect(mpdReport.errors == 0, "\(mpdReport.findings.filter { $0.severity == .error }.map(\.message))")
        let decoded = try await frames
        #expect(decoded.count >= 123 && decoded.count <= 127, "\(decoded.count) frames")
    }

    /// Redundancy: two origins with the same `epoch:` fed the same UDP stream, the second
    /// joining 2.5 s later, publish the same segment URIs, media sequence and init segment
    /// names, and byte-identical segments under the same names.
    @Test func redundantOriginsPublishAlike() async throws {
        let (portA, portB) = (Self.port(), Self.port() + 1)
        func configuration(_ port: Int) throws -> OriginConfiguration {
            var configuration = OriginConfiguration()
            configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
            configuration.channels["news"] = .init(input: "udp://127.0.0.1:\(port)", segmentDuration: 1, window: 4)
            configuration.channels["news"]?.epoch = 1_795_000_000
            return configuration
        }
        let first = try await RunningOrigin(try configuration(portA))
        defer { Task { await first.stop() } }
        let feed = try BackgroundProcess("ffmpeg", Self.feed + ["-map", "0:v", "-map", "1:a", "-f", "tee",
                                                                "[f=mpegts]udp://127.0.0.1:\(portA)?pkt_size=1316|[f=mpegts]udp://127.0.0.1:\(portB)?pkt_size=1316"])
        defer { feed.stop() }
        try await Task.sleep(for: .milliseconds(2500))
        let second = try await RunningOrigin(try configuration(portB))
        defer { Task { await second.stop() } }
        try await Self.waitForPlaylist(second, segments: 4)
        // Once the second origin's first (partial) segment has left its window, both list the same.
        try await Task.sleep(for: .seconds(6))
        var matched = false
        for _ in 0..<10 where !matched {
            let a = String(decoding: try await curl([first.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
            let b = String(decoding: try await curl([second.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
            let lines = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("#EXT-X-PROGRAM-DATE-TIME") } }
            if lines(a) == lines(b) { matched = true; break }
            try await Task.sleep(for: .milliseconds(150))
        }
        #expect(matched, "the two origins' playlists never listed the same segments")
        let playlist = String(decoding: try await curl([first.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
        let names = playlist.split(separator: "\n").filter { $0.hasPrefix("seg_") || $0.hasPrefix("#EXT-X-MAP") }
            .map { $0.hasPrefix("#EXT-X-MAP") ? String($0.split(separator: "\"")[1]) : String($0) }
        #expect(names.count >= 3)
        for name in names {
            let (a, b) = (try await curl([first.base + "/live/news/video_180p/" + name]), try await curl([second.base + "/live/news/video_180p/" + name]))
            #expect(a.status == 200 && b.status == 200, "\(name): \(a.status) \(b.status)")
            #expect(a.body == b.body, "\(name) differs between the origins")
            #expect(a.headers["etag"] == b.headers["etag"])
        }
    }

    /// A Kerf channel pulling from an SRT listener and from an RTMP server (ffmpeg in both roles).
    @Test(arguments: ["srt", "rtmp"]) func pulledChannelPlays(scheme: String) async throws {
        let port = Self.port()
        let (serve, pull): ([String], String) = scheme == "srt"
            ? (["-f", "mpegts", "srt://127.0.0.1:\(port)?mode=listener"], "srt://127.0.0.1:\(port)?mode=caller")
            : (["-f", "flv", "-listen", "1", "rtmp://127.0.0.1:\(port)/live/feed"], "rtmp://127.0.0.1:\(port)/live/feed")
        let feed = try BackgroundProcess("ffmpeg", Self.feed + serve)
        defer { feed.stop() }
        let origin = try await Self.origin(input: pull)
        defer { Task { await origin.stop() } }
        try await Self.waitForPlaylist(origin, segments: 3)
        let frames = try await Self.play(origin.base + "/live/news/master.m3u8", seconds: 8)
        #expect(frames.count >= 195 && frames.count <= 202, "\(frames.count) frames")
    }
}
