import Foundation
import KerfTestSupport
import Testing
import KerfTestTags

/// `kerf package` with re-encoding, checked with ffprobe/ffmpeg, xmllint and `kerf validate`.
@Suite(.tags(.integration)) struct TranscodeTests {
    func run(_ arguments: [String]) throws -> Command.Result {
        try Command.run(Fixtures.kerf, arguments)
    }

    /// Presentation times (seconds) and keyframe flags of a file's video packets, in decode order.
    func packets(_ path: String) throws -> [(pts: Double, key: Bool)] {
        let json = try Command.ffprobe(["-select_streams", "v", "-show_entries", "packet=pts_time,flags", path])
        return (json["packets"] as? [[String: Any]] ?? []).map {
            (Double($0["pts_time"] as? String ?? "") ?? .nan, ($0["flags"] as? String ?? "").hasPrefix("K"))
        }
    }

    func concatenate(_ files: [URL], into target: URL) throws {
        var data = Data()
        for file in files { data.append(try Data(contentsOf: file)) }
        try data.write(to: target)
    }

    @Test func mpeg2MezzanineBecomesH264AndAACThatDecodesAndValidates() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-transcode")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let source = Fixtures.path("mpeg2_mp2.ts")
        let result = try run(["package", source, "-o", out.path, "--segment-duration", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("stream 0 (mpeg2video): re-encode: video codec mpeg2video is not allowed"))
        #expect(result.stderr.contains("stream 1 (mp2): re-encode: audio codec mp2 is not allowed"))
        #expect(result.stderr.contains("encoder: using libx264"))

        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains("CODECS=\"avc1.64") && master.contains("mp4a.40.2"))
        let sourceVideo = try Command.ffprobe(["-select_streams", "v", "-count_frames", "-show_entries",
                                               "stream=nb_read_frames,duration", source])
        let sourceStream = try #require((sourceVideo["streams"] as? [[String: Any]])?.first)
        let sourceFrames = Int(sourceStream["nb_read_frames"] as? String ?? "") ?? -1
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let decoded = try Command.run("ffmpeg", ["-v", "error", "-i", out.appendingPathComponent(manifest).path,
                                                     "-map", "0", "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
            let validated = try run(["validate", "--deep", out.appendingPathComponent(manifest).path])
            #expect(validated.status == 0, "\(manifest): \(validated.stdout)")
        }
        let schema = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, out.appendingPathComponent("manifest.mpd").path])
        #expect(schema.status == 0, "\(schema.stderr)")
        // Every rendition decodes fully: as many pictures as the source, duration within a frame.
        for folder in ["video_360p", "video_234p"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent(folder).path)
                .filter { $0.hasPrefix("seg_") }.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
            let joined = dir.appendingPathComponent("\(folder).mp4")
            try concatenate([out.appendingPathComponent("\(folder)/init.mp4")] + files.map { out.appendingPathComponent("\(folder)/\($0)") },
                            into: joined)
            let frames = try Command.ffprobe(["-count_frames", "-show_entries", "stream=nb_read_frames", joined.path])
            let count = Int(((frames["streams"] as? [[String: Any]])?.first?["nb_read_frames"] as? String) ?? "") ?? -2
            #expect(count == sourceFrames, "\(folder): \(count) pictures for \(sourceFrames)")
            let times = try packets(joined.path).map(\.pts).sorted()
            let duration = (times.last ?? 0) + 0.04 - (times.first ?? 0)
            #expect(abs(duration - Double(sourceFrames) * 0.04) < 0.04 + 1e-6, "\(folder) lasts \(duration) s")
        }
    }

    /// A 3-rung ladder from the irregular-GOP fixture: identical IDR boundaries in every rung,
    /// segments of exactly the target but the last, bitrates within ±15% of the targets.
    @Test func ladderFromIrregularKeyframesIsAlignedAndOnBudget() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-ladder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let targets = ["360p": 600_000, "270p": 350_000, "180p": 150_000]
        let result = try run(["package", Fixtures.path("h264_irregular_gop.mp4"), "-o", out.path, "--segment-duration", "2",
                              "--ladder", "360p:600k,270p:350k,180p:150k", "--encoder", "x264"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("re-encode: a ladder was requested"))
        var boundaries: [[Double]] = []
        for (name, target) in targets.sorted(by: { $0.value > $1.value }) {
            let folder = out.appendingPathComponent("video_\(name)")
            let playlist = try String(contentsOf: folder.appendingPathComponent("playlist.m3u8"), encoding: .utf8)
            let durations = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
                .map { Double($0.dropFirst(8).prefix { $0 != "," }) ?? -1 }
            #expect(durations == [2, 2, 2, 2, 2], "\(name): \(durations)")
            var starts: [Double] = []
            var bytes = 0
            for index in 1...durations.count {
                let segment = folder.appendingPathComponent("seg_\(index).m4s")
                bytes += try Data(contentsOf: segment).count
                let joined = dir.appendingPathComponent("\(name)_\(index).mp4")
                try concatenate([folder.appendingPathComponent("init.mp4"), segment], into: joined)
                let read = try packets(joined.path)
                #expect(read.first?.key == true, "\(name) segment \(index) does not start with a keyframe")
                #expect(read.dropFirst().allSatisfy { !$0.key }, "\(name) segment \(index) has a keyframe inside")
            }
            // Keyframe times over the whole rendition (one read, so one timestamp shift for all).
            let whole = dir.appendingPathComponent("\(name).mp4")
            try concatenate([folder.appendingPathComponent("init.mp4")] + (1...durations.count).map { folder.appendingPathComponent("seg_\($0).m4s") },
                            into: whole)
            starts = try packets(whole.path).filter(\.key).map(\.pts)
            boundaries.append(starts.map { (($0 - starts[0]) * 1000).rounded() / 1000 })
            let rate = Double(bytes * 8) / 10
            #expect(abs(rate / Double(target) - 1) <= 0.15, "\(name): \(Int(rate)) bit/s for \(target)")
        }
        #expect(boundaries.allSatisfy { $0 == [0, 2, 4, 6, 8] }, "\(boundaries)")
    }

    /// Renditions whose keyframes disagree are found from their keyframe indexes, then each is
    /// re-encoded at its own size and bitrate with keyframes on the same boundaries.
    @Test func misalignedRenditionsAreReencodedIntoAlignment() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-align")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let result = try run(["package", Fixtures.path("ladder_360p.mp4"), Fixtures.path("h264_irregular_gop.mp4"),
                              "-o", out.path, "--segment-duration", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("stream copy is not possible (renditions are not keyframe-aligned"))
        #expect(result.stderr.contains("h264_irregular_gop.mp4 stream 1 (aac): copy"))
        for folder in ["video_360p", "video_360p_2"] {
            let playlist = try String(contentsOf: out.appendingPathComponent("\(folder)/playlist.m3u8"), encoding: .utf8)
            let durations = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
            #expect(durations == Array(repeating: "#EXTINF:2.000,", count: 5), "\(folder): \(durations)")
        }
    }

    /// `kerf package --json` and its `transcoding` summary.
    func summary(_ arguments: [String]) throws -> (status: Int32, transcoding: [String: Any]) {
        let result = try run(["package"] + arguments + ["--json", "--encoder", "x264"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result.status, json?["transcoding"] as? [String: Any] ?? [:])
    }

    /// MPEG-2 (by its codec) and misaligned MP4 renditions (by their keyframe indexes) go to the
    /// transcoder before anything is read: no stream-copy pass, no second read.
    @Test func copyOrReencodeIsDecidedBeforeReading() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-decide")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mpeg2 = try summary([Fixtures.path("mpeg2_mp2.ts"), "-o", dir.appendingPathComponent("mpeg2").path, "--segment-duration", "2"])
        #expect(mpeg2.status == 0)
        #expect(mpeg2.transcoding["streamCopyPasses"] as? Int == 0)
        let misaligned = try summary([Fixtures.path("ladder_360p.mp4"), Fixtures.path("h264_irregular_gop.mp4"),
                                      "-o", dir.appendingPathComponent("ladder").path, "--segment-duration", "2"])
        #expect(misaligned.status == 0)
        #expect(misaligned.transcoding["streamCopyPasses"] as? Int == 0)
        let decisions = misaligned.transcoding["decisions"] as? [String] ?? []
        #expect(decisions.contains { $0.contains("by the keyframe indexes, \(Fixtures.path("h264_irregular_gop.mp4")) cuts segment 2 at 2.080 s") },
                "\(decisions)")
        for run in [mpeg2, misaligned] {
            #expect(!(run.transcoding["decisions"] as? [String] ?? []).contains { $0.contains("reading the inputs again") })
        }
    }

    /// MPEG-TS keeps no keyframe index: the same misaligned renditions are found by the
    /// stream-copy pass, which one line reports before the inputs are read again.
    @Test func problemsNoIndexShowAreFoundByTheStreamCopyPass() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-second-pass")
        defer { try? FileManager.default.removeItem(at: dir) }
        var inputs: [String] = []
        for name in ["ladder_360p", "h264_irregular_gop"] {
            let ts = dir.appendingPathComponent("\(name).ts").path
            let made = try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("\(name).mp4"), "-c", "copy", "-f", "mpegts", ts])
            #expect(made.status == 0, "\(made.stderr)")
            inputs.append(ts)
        }
        let result = try run(["package"] + inputs + ["-o", dir.appendingPathComponent("out").path, "--segment-duration", "2", "--encoder", "x264"])
        #expect(result.status == 0, "\(result.stderr)")
        let found = result.stderr.split(separator: "\n").filter { $0.contains("stream copy is not possible") }
        #expect(found == ["kerf: the stream-copy pass found that stream copy is not possible (renditions are not keyframe-aligned: \(inputs[1]) cuts segment 2 at 2.080 s where \(inputs[0]) cuts at 2.000 s; re-encode with aligned keyframes (--transcode auto)); reading the inputs again to re-encode the video"],
                "\(result.stderr)")
        let counted = try summary(inputs + ["-o", dir.appendingPathComponent("json").path, "--segment-duration", "2"])
        #expect(counted.status == 0)
        #expect(counted.transcoding["streamCopyPasses"] as? Int == 1)
    }

    @Test func aMissingGPUIsAnErrorWhenAskedForAndAFallbackOtherwise() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-gpu")
        defer { try? FileManager.default.removeItem(at: dir) }
        let nvenc = try run(["package", Fixtures.path("mpeg2_mp2.ts"), "-o", dir.appendingPathComponent("a").path, "--encoder", "nvenc"])
        #expect(nvenc.status == 2)
        let last = nvenc.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("kerf: --encoder nvenc: no CUDA device"), "\(nvenc.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("a").path))

        let auto = try run(["package", Fixtures.path("mpeg2_mp2.ts"), "-o", dir.appendingPathComponent("b").path])
        #expect(auto.status == 0)
        for skipped in ["h264_nvenc: no CUDA device", "h264_qsv: no Intel Quick Sync device", "h264_vaapi: no VAAPI device"] {
            #expect(auto.stderr.contains("encoder: skipping \(skipped)"), "\(auto.stderr)")
        }
        #expect(auto.stderr.contains("encoder: using libx264 (software)"))

        let probe = try run(["probe", "--encoders", "--json"])
        #expect(probe.status == 0)
        let list = try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(list.contains { $0["name"] as? String == "libx264" && $0["available"] as? Bool == true })
        #expect(list.contains { $0["name"] as? String == "h264_nvenc" && $0["available"] as? Bool == false
                                && ($0["reason"] as? String ?? "").contains("CUDA") })
    }

    @Test func interlacedVideoIsDeinterlacedAndCodedProgressive() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-interlaced")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("interlaced.mp4").path
        let made = try Command.run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4",
                                              "-f", "lavfi", "-i", "sine=duration=4", "-vf", "tinterlace=interleave_top,fieldorder=tff",
                                              "-c:v", "libx264", "-flags", "+ildct+ilme", "-x264-params", "tff=1", "-c:a", "aac", source])
        #expect(made.status == 0, "\(made.stderr)")
        let out = dir.appendingPathComponent("out")
        let result = try run(["package", source, "-o", out.path, "--segment-duration", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("re-encode: video is interlaced (tt)"))
        #expect(result.stderr.contains("deinterlaced with bwdif"))
        #expect(result.stderr.contains("stream 1 (aac): copy"))
        let initSegment = out.appendingPathComponent("video_360p/init.mp4").path
        let stream = try #require((try Command.ffprobe(["-show_entries", "stream=field_order", initSegment])["streams"] as? [[String: Any]])?.first)
        #expect(["progressive", "unknown", nil].contains(stream["field_order"] as? String), "\(stream)")
        let decoded = try Command.run("ffmpeg", ["-v", "error", "-i", out.appendingPathComponent("master.m3u8").path, "-map", "0", "-f", "null", "-"])
        #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(decoded.stderr)")
    }

    @Test func badTranscodingOptionsExitTwoWithOneLine() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-options")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        for arguments in [["--ladder", "720p"], ["--ladder", "720p:3000k", "--transcode", "never"], ["--transcode", "maybe"],
                          ["--encoder", "h266"], ["--hwaccel", "metal"]] {
            let result = try run(["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out] + arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let ladder = try run(["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--ladder", "720p"])
        #expect(ladder.stderr == "kerf: --ladder rung 1 ('720p') must be resolution:bitrate[:maxrate]: for example 1080p:5000k,720p:3000k,480p:1200k\n")
    }
}
