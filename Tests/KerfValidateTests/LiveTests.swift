import Foundation
import KerfCore
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// `--live`: reloads of live playlists and dynamic MPDs, against ffmpeg's live muxers and
/// against hand-broken live presentations rewritten while the validator watches.
@Suite(.serialized, .tags(.realtime)) struct LiveTests {
    static func liveRules(_ report: ValidationReport) -> Set<String> {
        Set(report.findings.map(\.rule).filter { $0.contains(".live-") })
    }

    /// ffmpeg encodes a test pattern in real time into a live HLS playlist and a live DASH MPD,
    /// served over HTTP; watching them for a few seconds finds nothing wrong. The encoders run
    /// until the test ends: a stream that ended would (rightly) be reported as a static MPD.
    @Test func ffmpegLiveOutputPasses() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        for folder in ["h", "d"] { try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true) }
        let encode = ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-c:v", "libx264", "-preset", "ultrafast",
                      "-g", "25", "-keyint_min", "25", "-sc_threshold", "0"]
        let hls = try BackgroundProcess("ffmpeg", encode + ["-f", "hls", "-hls_time", "1", "-hls_list_size", "4", "-hls_flags", "delete_segments",
                                                            // Keep segments that left the playlist long enough for
                                                            // RFC 8216bis §6.2.2 (ffmpeg's default keeps one).
                                                            "-hls_delete_threshold", "6",
                                                            dir.appendingPathComponent("h/live.m3u8").path])
        let dash = try BackgroundProcess("ffmpeg", encode + ["-f", "dash", "-seg_duration", "1", "-window_size", "5", "-use_timeline", "1",
                                                             "-use_template", "1", dir.appendingPathComponent("d/live.mpd").path])
        defer { hls.stop(); dash.stop() }
        let server = try FixtureHTTPServer(root: dir.path)
        defer { server.server.stop() }
        // Both live: the playlist and the MPD list a few segments.
        try await waitUntil("ffmpeg's live HLS and DASH output", timeout: .seconds(60), poll: .milliseconds(250)) {
            let playlist = (try? String(contentsOf: dir.appendingPathComponent("h/live.m3u8"), encoding: .utf8)) ?? ""
            let mpd = (try? String(contentsOf: dir.appendingPathComponent("d/live.mpd"), encoding: .utf8)) ?? ""
            return playlist.components(separatedBy: "#EXTINF").count > 3 && mpd.contains("type=\"dynamic\"")
                && mpd.components(separatedBy: "<S ").count > 1
        }
        var validator = Validator()
        validator.live = 5
        let hlsReport = try await validator.validate(server.base + "/h/live.m3u8")
        #expect(hlsReport.errors == 0, "\(hlsReport.findings.map(\.message))")
        let dashReport = try await validator.validate(server.base + "/d/live.mpd")
        #expect(dashReport.errors == 0, "\(dashReport.findings.map(\.message))")
        #expect(dashReport.findings.map(\.rule) == ["dash.utctiming-missing"])  // ffmpeg writes none unless asked
    }

    /// A live media playlist rewritten badly while the validator watches it.
    @Test func brokenLivePlaylistIsReported() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let playlist = dir.appendingPathComponent("live.m3u8").path
        for index in 0..<9 { FileManager.default.createFile(atPath: dir.appendingPathComponent("s\(index).ts").path, contents: Data()) }
        func write(sequence: Int, count: Int, discontinuitySequence: Int = 0, durations: [Int: String] = [:], discontinuityAt: Int? = nil) throws {
            var text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:\(sequence)\n"
            text += "#EXT-X-DISCONTINUITY-SEQUENCE:\(discontinuitySequence)\n"
            for index in sequence..<(sequence + count) {
                if index == discontinuityAt { text += "#EXT-X-DISCONTINUITY\n" }
                text += "#EXTINF:\(durations[index] ?? "1.000"),\ns\(index).ts\n"
            }
            try text.write(toFile: playlist, atomically: true, encoding: .utf8)
        }
        try write(sequence: 0, count: 7, discontinuityAt: 0)
        // The validator reloads every 0.5 s (a quarter of the target duration): each version
        // stays for 2 s, several reloads even on a loaded machine.
        let changes = Task {
            try await Task.sleep(for: .seconds(2))
            // Segment 0 (with its discontinuity) leaves without the discontinuity sequence
            // moving, is deleted at once, and segment 2 changes duration.
            try FileManager.default.removeItem(atPath: dir.appendingPathComponent("s0.ts").path)
            try write(sequence: 1, count: 7, durations: [2: "1.500"])
            try await Task.sleep(for: .seconds(2))
            try write(sequence: 0, count: 8)  // the media sequence goes back
            // ... and then nothing new for the rest of the watch (stale after 3.5 s).
        }
        var validator = Validator()
        validator.live = 10
        let report = try await validator.validate(playlist)
        try await changes.value
        #expect(Self.liveRules(report) == ["hls.live-segment-rewritten", "hls.live-removed-unavailable", "hls.live-discontinuity-sequence",
                                           "hls.live-media-sequence", "hls.live-stale"], "\(report.findings.map(\.message))")
        #expect(report.findings.contains { $0.message == "segment 2 was s2.ts (1.000 s), now s2.ts (1.500 s)" })
        #expect(report.findings.contains { $0.message == "EXT-X-MEDIA-SEQUENCE went back from 1 to 0" })
        #expect(report.findings.allSatisfy { $0.severity != .error || $0.rule.contains(".live-") })
    }

    /// A playlist that offers blocking reload and delta updates from a server that ignores the
    /// `_HLS_msn` and `_HLS_skip` query parameters.
    @Test func unkeptLowLatencyPromisesAreReported() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12,HOLD-BACK=6\n"
        text += "#EXT-X-MEDIA-SEQUENCE:10\n"
        // 16 s of segments: longer than CAN-SKIP-UNTIL, so a delta update has something to skip.
        for index in 10..<18 { text += "#EXTINF:2.000,\ns\(index).ts\n" }
        try text.write(to: dir.appendingPathComponent("ll.m3u8"), atomically: true, encoding: .utf8)
        let server = try FixtureHTTPServer(root: dir.path)
        defer { server.server.stop() }
        var validator = Validator()
        validator.live = 1
        let report = try await validator.validate(server.base + "/ll.m3u8")
        #expect(Self.liveRules(report).isSuperset(of: ["hls.live-blocking-reload", "hls.live-delta-update"]))
        #expect(report.findings.contains { $0.message.hasPrefix("asked for _HLS_msn=18, answered after ") && $0.message.hasSuffix("with a playlist ending at segment 17") })
        #expect(report.findings.contains { $0.message == "_HLS_skip=YES was answered without EXT-X-SKIP" })

        // Shorter than CAN-SKIP-UNTIL: nothing to skip, so no EXT-X-SKIP is expected.
        let short = text.components(separatedBy: "#EXTINF").prefix(4).joined(separator: "#EXTINF")
        try short.write(to: dir.appendingPathComponent("short.m3u8"), atomically: true, encoding: .utf8)
        let shortReport = try await validator.validate(server.base + "/short.m3u8")
        #expect(!shortReport.findings.contains { $0.rule == "hls.live-delta-update" })
        #expect(shortReport.findings.contains { $0.rule == "hls.live-blocking-reload" })
    }

    /// A dynamic MPD announcing segments that are not there, then going back in publishTime.
    @Test func brokenDynamicMPDIsReported() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mpd = dir.appendingPathComponent("live.mpd").path
        func write(publish: String) throws {
            // Started 20 s ago; 2 s segments; the newest ones never written.
            let text = """
                <?xml version="1.0"?>
                <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"
                     availabilityStartTime="\(UTCTime.xsDateTime(UTCTime.now() - 20))" publishTime="\(publish)"
                     minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT30S" minBufferTime="PT2S">
                  <Period id="0" start="PT0S">
                    <AdaptationSet mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
                      <Representation id="v" bandwidth="100000" width="320" height="240">
                        <SegmentTemplate timescale="1000" initialization="v/init.mp4" media="v/$Time$.m4s">
                          <SegmentTimeline><S t="0" d="2000" r="8"/></SegmentTimeline>
                        </SegmentTemplate>
                      </Representation>
                    </AdaptationSet>
                  </Period>
                  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="http://127.0.0.1/time"/>
                </MPD>
                """
            try text.write(toFile: mpd, atomically: true, encoding: .utf8)
        }
        try write(publish: "2026-01-01T00:00:10Z")
        let changes = Task {
            // The validator reloads every second (minimumUpdatePeriod): two reloads of each version.
            try await Task.sleep(for: .seconds(2))
            try write(publish: "2026-01-01T00:00:05Z")
        }
        var validator = Validator()
        validator.live = 5
        let report = try await validator.validate(mpd)
        try await changes.value
        #expect(Self.liveRules(report) == ["dash.live-segment-unavailable", "dash.live-publish-time"], "\(report.findings.map(\.message))")
        #expect(report.findings.contains { $0.message.hasPrefix("segment 9 of Representation v was due ") && $0.message.hasSuffix("s ago but answered HTTP 404") })
    }

    /// An update that does not continue the previous SegmentTimeline: after the segment that
    /// ended the first version (t=16000, 2 s), the second goes on at t=20000.
    @Test func timelineThatSkipsAheadBetweenUpdatesIsFound() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mpd = dir.appendingPathComponent("live.mpd").path
        let started = UTCTime.xsDateTime(UTCTime.now() - 30)
        func write(publish: String, timeline: String) throws {
            try """
                <?xml version="1.0"?>
                <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"
                     availabilityStartTime="\(started)" publishTime="\(publish)"
                     minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT30S" minBufferTime="PT2S">
                  <Period id="0" start="PT0S">
                    <AdaptationSet mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
                      <Representation id="v" bandwidth="100000" width="320" height="240">
                        <SegmentTemplate timescale="1000" initialization="v/init.mp4" media="v/$Time$.m4s">
                          <SegmentTimeline>\(timeline)</SegmentTimeline>
                        </SegmentTemplate>
                      </Representation>
                    </AdaptationSet>
                  </Period>
                  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="http://127.0.0.1/time"/>
                </MPD>
                """.write(toFile: mpd, atomically: true, encoding: .utf8)
        }
        try write(publish: "2026-01-01T00:00:10Z", timeline: #"<S t="0" d="2000" r="8"/>"#)
        let changes = Task {
            try await Task.sleep(for: .seconds(2))  // two reloads of the first version (minimumUpdatePeriod 1 s)
            try write(publish: "2026-01-01T00:00:12Z", timeline: #"<S t="0" d="2000" r="8"/><S t="20000" d="2000"/>"#)
        }
        var validator = Validator()
        validator.live = 4
        let report = try await validator.validate(mpd)
        try await changes.value
        #expect(Self.liveRules(report).contains("dash.live-timeline-continuity"), "\(report.findings.map(\.message))")
        #expect(!Self.liveRules(report).contains("dash.live-publish-time-unchanged"))
        #expect(report.findings.contains { $0.message.hasPrefix("after the segment at t=16000, which ended the previous update, Representation v continues at t=20000, not t=18000") })
    }
}
