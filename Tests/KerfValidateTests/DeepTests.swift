import Foundation
import KerfTestSupport
import Testing
@testable import KerfValidate

/// `--deep` reads the segments themselves.
@Suite struct DeepTests {
    @Test func segmentStartingOnANonKeyframeIsNamed() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        // ffmpeg's split_by_time cuts at every second whatever the GOP (2 s): odd segments start mid-GOP.
        let playlist = dir.appendingPathComponent("cut.m3u8").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "hls",
                                           "-hls_time", "1", "-hls_flags", "split_by_time", "-hls_playlist_type", "vod", playlist]).status == 0)
        let report = try await Validator(deep: true).validate(playlist)
        let named = report.findings.filter { $0.rule == "hls.segment-not-keyframe" }
        #expect(!named.isEmpty)
        #expect(named.allSatisfy { $0.message.hasSuffix(".ts does not start with a keyframe") && $0.line != nil })
        #expect(named.contains { $0.message.hasPrefix("cut1.ts ") })
        // Without --deep nothing is read.
        #expect(try await Validator().validate(playlist).findings.isEmpty)
    }

    @Test func understatedBandwidthReportsTheMeasuredPeak() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("pkg").path
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--formats", "hls"]).status == 0)
        let clean = try await Validator(deep: true).validate(out + "/master.m3u8")
        #expect(clean.findings.isEmpty, "\(clean.findings.map(\.message))")
        let master = out + "/master.m3u8"
        var text = try String(contentsOfFile: master, encoding: .utf8)
        let declared = text.components(separatedBy: "#EXT-X-STREAM-INF:BANDWIDTH=")[1].prefix { $0.isNumber }
        text = text.replacingOccurrences(of: "BANDWIDTH=\(declared),", with: "BANDWIDTH=100000,")
        try text.write(toFile: master, atomically: true, encoding: .utf8)
        let report = try await Validator(deep: true).validate(master)
        let finding = report.findings.first { $0.rule == "hls.bandwidth-understated" }
        #expect(finding?.severity == .error)
        // The measured peak is what Kerf had declared: video peak plus audio peak.
        #expect(finding?.message == "BANDWIDTH 100000 is below the measured peak segment bit rate \(declared) for video_360p/playlist.m3u8")
    }

    @Test func maxSegmentsSamplesEvenly() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let playlist = dir.appendingPathComponent("cut.m3u8").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "hls",
                                           "-hls_time", "1", "-hls_flags", "split_by_time", "-hls_playlist_type", "vod", playlist]).status == 0)
        let all = try await Validator(deep: true).validate(playlist).findings.filter { $0.rule == "hls.segment-not-keyframe" }
        let sampled = try await Validator(deep: true, maxSegments: 2).validate(playlist).findings.filter { $0.rule == "hls.segment-not-keyframe" }
        #expect(sampled.count < all.count)
        #expect(sampled.allSatisfy { finding in all.contains { $0.message == finding.message } })
    }
}
