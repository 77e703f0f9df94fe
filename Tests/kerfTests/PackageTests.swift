import Foundation
import KerfTestSupport
import Testing
import KerfTestTags

/// `kerf package` end to end, checked with ffprobe/ffmpeg and xmllint as oracles.
@Suite(.tags(.integration)) struct PackageTests {
    static let ladder = ["ladder_360p.mp4", "ladder_540p.mp4", "ladder_720p.mp4", "ladder_audio.m4a"].map(Fixtures.path)
    static let schema = Fixtures.dashSchema

    /// Packages `inputs` into a new temporary directory and returns it.
    func package(_ inputs: [String], _ extra: [String] = []) throws -> URL {
        let dir = try Fixtures.temporaryDirectory("kerf-package")
        let out = dir.appendingPathComponent("out")
        let result = try Command.run(Fixtures.kerf, ["package"] + inputs + ["-o", out.path] + extra)
        #expect(result.status == 0, "kerf package failed: \(result.stderr)")
        // AES-128 on CMAF says once which players cannot play it; nothing else is printed.
        #expect(result.stderr.split(separator: "\n").filter { !$0.hasPrefix("kerf: warning: AES-128 CMAF segments") }.isEmpty)
        return out
    }

    func streams(_ manifest: String, _ options: [String] = []) throws -> [[String: Any]] {
        let json = try Command.ffprobe(options + ["-show_streams", manifest])
        return json["streams"] as? [[String: Any]] ?? []
    }

    func duration(_ path: String, _ options: [String] = []) throws -> Double {
        let json = try Command.ffprobe(options + ["-show_format", path])
        return Double((json["format"] as? [String: Any])?["duration"] as? String ?? "") ?? -1
    }

    func decode(_ manifest: String, _ options: [String] = []) throws -> Command.Result {
        try Command.run("ffmpeg", ["-v", "error"] + options + ["-i", manifest, "-map", "0", "-c:s", "ass", "-f", "null", "-"])
    }

    func validateMPD(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: Self.schema) else {
            Issue.record("DASH schema missing at \(Self.schema)")
            return
        }
        let result = try Command.run("xmllint", ["--noout", "--schema", Self.schema, path])
        #expect(result.status == 0, "MPD does not validate: \(result.stderr)")
    }

    /// (EXTINF duration, URI) pairs of a media playlist.
    func entries(_ playlist: URL) throws -> [(duration: Double, uri: String)] {
        let lines = try String(contentsOf: playlist, encoding: .utf8).split(separator: "\n").map(String.init)
        var result: [(Double, String)] = []
        for (i, line) in lines.enumerated() where line.hasPrefix("#EXTINF:") {
            let value = Double(line.dropFirst(8).prefix { $0 != "," }) ?? -1
            let uri = lines[(i + 1)...].first { !$0.hasPrefix("#") } ?? ""
            result.append((value, uri))
        }
        return result
    }

    @Test func ladderPlaysAsHLSAndDASH() throws {
        let out = try package(Self.ladder)
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let path = out.appendingPathComponent(manifest).path
            let found = try streams(path)
            let heights = Set(found.compactMap { $0["height"] as? Int })
            #expect(heights == [360, 540, 720], "\(manifest) streams: \(found.map { $0["codec_name"] ?? "?" })")
            #expect(found.contains { $0["codec_name"] as? String == "aac" })
            let decoded = try decode(path)
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
            #expect(abs(try duration(path) - 10.0) <= 0.04, "\(manifest) duration")
        }
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
    }

    @Test func twoLanguagesAndSubtitlesPlay() throws {
        let out = try package([Fixtures.path("two_languages_subs.mp4")], ["--segment-duration", "4"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        // ffmpeg's HLS demuxer reads subtitle renditions only in experimental mode, and its DASH
        // demuxer refuses .vtt URLs unless allowed: both are documented ffmpeg 5.1 limits.
        let cases = [("master.m3u8", ["-strict", "experimental"]), ("manifest.mpd", ["-allowed_extensions", "ALL"])]
        for (manifest, options) in cases {
            let path = out.appendingPathComponent(manifest).path
            let found = try streams(path, options)
            let described = found.map { "\($0["codec_name"] as? String ?? "?"):\(($0["tags"] as? [String: String])?["language"] ?? "-")" }
            #expect(Set(described) == ["h264:-", "aac:eng", "aac:fra", "webvtt:eng"], "\(manifest): \(described)")
            let decoded = try decode(path, options)
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
            #expect(abs(try duration(path, options) - 8.0) <= 0.04)
        }
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains(#"TYPE=AUDIO,GROUP-ID="audio-mp4a-40-2",NAME="English",LANGUAGE="eng",DEFAULT=YES"#))
        #expect(master.contains(#"LANGUAGE="fra",DEFAULT=NO"#))
        // DASH: one AdaptationSet per audio track, labelled, main and alternate.
        let mpdText = try String(contentsOf: out.appendingPathComponent("manifest.mpd"), encoding: .utf8)
        #expect(mpdText.contains("<Label>English</Label>") && mpdText.contains("<Label>Français</Label>"))
        #expect(mpdText.components(separatedBy: #"contentType="audio""#).count - 1 == 2)
        #expect(master.contains(#"TYPE=SUBTITLES,GROUP-ID="subs""#))
        #expect(master.contains(#"SUBTITLES="subs""#))
        let vtt = try String(contentsOf: out.appendingPathComponent("text_eng/seg_1.vtt"), encoding: .utf8)
        #expect(vtt.hasPrefix("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"))
        #expect(vtt.contains("00:00:00.500 --> 00:00:02.500\nHello from Kerf."))
    }

    /// Every video segment starts with a keyframe, at the same instant in every rung.
    @Test func segmentsStartWithKeyframesAlignedAcrossRungs() throws {
        let out = try package(Self.ladder, ["--segment-duration", "4"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        var startsByRung: [[Double]] = []
        for rung in ["video_360p", "video_540p", "video_720p"] {
            let folder = out.appendingPathComponent(rung)
            let segments = try entries(folder.appendingPathComponent("playlist.m3u8"))
            #expect(segments.map(\.duration) == [4, 4, 2])
            var starts: [Double] = []
            for segment in segments {
                // A media segment plays with its init segment in front of it.
                let joined = folder.appendingPathComponent("joined.mp4")
                let bytes = try Data(contentsOf: folder.appendingPathComponent("init.mp4"))
                    + Data(contentsOf: folder.appendingPathComponent(segment.uri))
                try bytes.write(to: joined)
                let json = try Command.ffprobe(["-select_streams", "v", "-show_entries", "packet=pts_time,flags",
                                                "-read_intervals", "%+#1", joined.path])
                let first = (json["packets"] as? [[String: Any]])?.first
                #expect((first?["flags"] as? String)?.hasPrefix("K") == true, "\(rung)/\(segment.uri) starts with a non-keyframe")
                starts.append(Double(first?["pts_time"] as? String ?? "") ?? -1)
            }
            startsByRung.append(starts)
        }
        #expect(startsByRung.allSatisfy { $0 == startsByRung[0] }, "\(startsByRung)")
    }

    @Test func extinfSumsToTheDurationAndBandwidthCoversEverySegment() throws {
        let out = try package(Self.ladder)
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let audio = try entries(out.appendingPathComponent("audio_und_aac/playlist.m3u8"))
        let audioPeak = try audio.map { entry in
            Double(try Data(contentsOf: out.appendingPathComponent("audio_und_aac/\(entry.uri)")).count) * 8 / entry.duration
        }.max() ?? 0
        // The audio track is every presented AAC frame (the priming frame the container marks
        // as discard is left out): the sum of those sample durations.
        // (Integer ticks: ffprobe's 6-decimal duration_time would accumulate rounding error.)
        let packets = try Command.ffprobe(["-show_entries", "packet=duration,flags:stream=time_base", Fixtures.path("ladder_audio.m4a")])
        let presented = (packets["packets"] as? [[String: Any]] ?? []).filter { ($0["flags"] as? String)?.contains("D") != true }
        #expect(presented.count < (packets["packets"] as? [[String: Any]] ?? []).count, "the fixture has a priming frame")
        let ticks = presented.compactMap { $0["duration"] as? Int }.reduce(0, +)
        let timeBase = ((packets["streams"] as? [[String: Any]])?.first?["time_base"] as? String ?? "1/1").split(separator: "/")
        let trackDuration = Double(ticks) * (Double(timeBase[0]) ?? 1) / (Double(timeBase[1]) ?? 1)
        #expect(abs(audio.map(\.duration).reduce(0, +) - trackDuration) < 0.000_01, "audio EXTINF sum")
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        for rung in ["video_360p", "video_540p", "video_720p"] {
            let segments = try entries(out.appendingPathComponent("\(rung)/playlist.m3u8"))
            let sum = segments.map(\.duration).reduce(0, +)
            #expect(abs(sum - 10.0) < 0.000_01, "\(rung) EXTINF sum \(sum)")
            let line = master.split(separator: "\n").map(String.init).firstIndex { $0 == "\(rung)/playlist.m3u8" }.map {
                master.split(separator: "\n").map(String.init)[$0 - 1]
            } ?? ""
            let bandwidth = Double(line.split(separator: ",").first { $0.contains("BANDWIDTH=") && !$0.contains("AVERAGE") }?
                .split(separator: "=").last ?? "") ?? 0
            for segment in segments {
                let bits = Double(try Data(contentsOf: out.appendingPathComponent("\(rung)/\(segment.uri)")).count) * 8
                #expect(bits / segment.duration + audioPeak <= bandwidth, "\(rung)/\(segment.uri) exceeds BANDWIDTH \(bandwidth)")
            }
        }
    }

    @Test func singleFilePackagesUseByteRangesAndOnDemandDASH() throws {
        let out = try package(Self.ladder, ["--single-file"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let path = out.appendingPathComponent(manifest).path
            #expect(Set(try streams(path).compactMap { $0["height"] as? Int }) == [360, 540, 720])
            let decoded = try decode(path)
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
            #expect(abs(try duration(path) - 10.0) <= 0.04)
        }
        let mpdPath = out.appendingPathComponent("manifest.mpd").path
        try validateMPD(mpdPath)
        let mpd = try String(contentsOfFile: mpdPath, encoding: .utf8)
        #expect(mpd.contains("urn:mpeg:dash:profile:isoff-on-demand:2011"))
        #expect(mpd.contains("<BaseURL>video_360p/video_360p.mp4</BaseURL>"))
        #expect(mpd.contains("subsegmentAlignment=\"true\""))
        // The sidx sits right after the init segment, where indexRange says.
        let file = try [UInt8](Data(contentsOf: out.appendingPathComponent("video_360p/video_360p.mp4")))
        let range = mpd.components(separatedBy: "indexRange=\"")[1].prefix { $0 != "\"" }.split(separator: "-").compactMap { Int($0) }
        #expect(range.count == 2 && String(decoding: file[(range[0] + 4)..<(range[0] + 8)], as: UTF8.self) == "sidx")
        let playlist = try String(contentsOf: out.appendingPathComponent("video_360p/playlist.m3u8"), encoding: .utf8)
        #expect(playlist.contains("#EXT-X-MAP:URI=\"video_360p.mp4\",BYTERANGE=\"\(range[0])@0\""))
        #expect(playlist.contains("#EXT-X-BYTERANGE:"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("video_360p/init.mp4").path))
    }

    @Test func timeTemplateNamesSegmentsByTime() throws {
        let out = try package([Fixtures.path("h264_aac_10s.mp4")], ["--segment-template", "time", "--segment-duration", "4"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let names = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("video_360p").path)
        #expect(Set(names.filter { $0.hasSuffix(".m4s") }) == ["seg_t0.m4s", "seg_t51200.m4s", "seg_t102400.m4s"])
        let mpd = out.appendingPathComponent("manifest.mpd").path
        #expect(try String(contentsOfFile: mpd, encoding: .utf8).contains("media=\"video_360p/seg_t$Time$.m4s\""))
        try validateMPD(mpd)
        let decoded = try decode(mpd)
        #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(decoded.stderr)")
    }

    /// MPEG-TS inputs carry Annex B video and ADTS audio, which CMAF must not copy as they are.
    @Test func mpegTSInputIsRepackagedForCMAF() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-ts-input")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ts = dir.appendingPathComponent("input.ts").path
        let made = try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "mpegts", ts])
        #expect(made.status == 0)
        let out = try package([ts], ["--formats", "hls,dash,hls-ts"])
        for manifest in ["master.m3u8", "manifest.mpd", "master-ts.m3u8"] {
            let path = out.appendingPathComponent(manifest).path
            let decoded = try decode(path)
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
            #expect(abs(try duration(path) - 10.0) <= 0.04)
            #expect(Set(try streams(path).compactMap { $0["codec_name"] as? String }) == ["h264", "aac"])
        }
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
    }

    @Test func streamSelectionAndOverridesReachTheManifests() throws {
        let out = try package([Fixtures.path("two_languages_subs.mp4")],
                              ["--streams", "0:v,0:2,0:3", "--set", "0:2:name=French dub", "--set", "0:2:bandwidth=200000",
                               "--set", "0:3:language=deu"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains(#"NAME="French dub",LANGUAGE="fra",DEFAULT=YES"#))
        #expect(!master.contains(#"LANGUAGE="eng""#))
        #expect(master.contains(#"TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="deu""#))
        let video = try entries(out.appendingPathComponent("video_360p/playlist.m3u8"))
        let videoPeak = try video.map { Double(try Data(contentsOf: out.appendingPathComponent("video_360p/\($0.uri)")).count) * 8 / $0.duration }.max() ?? 0
        #expect(master.contains("BANDWIDTH=\(Int(videoPeak.rounded(.up)) + 200_000),"))
        let mpd = try String(contentsOf: out.appendingPathComponent("manifest.mpd"), encoding: .utf8)
        #expect(mpd.contains(#"<Representation id="audio_fra_aac" bandwidth="200000""#))
        #expect(mpd.contains(#"lang="deu""#))
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
    }

    @Test func audioOnlyPackagesAsAudioVariants() throws {
        let out = try package([Fixtures.path("audio_only.m4a")])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let segments = try entries(out.appendingPathComponent("audio_und_aac/playlist.m3u8"))
        #expect(segments.count == 2)
        #expect(abs(segments[0].duration - 6) < 1024.0 / 44100 / 2, "first cut at the frame nearest 6 s")
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains(#"CODECS="mp4a.40.2""#) && master.contains("audio_und_aac/playlist.m3u8"))
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let decoded = try decode(out.appendingPathComponent(manifest).path)
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
        }
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
    }

    /// Every track of an input is timed from one origin: audio that starts late stays late,
    /// subtitles keep their distance from the picture, timelines stay continuous.
    @Test func tracksOfOneInputStayInSync() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-sync")
        defer { try? FileManager.default.removeItem(at: dir) }
        let late = dir.appendingPathComponent("late-audio.mp4").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-itsoffset", "0.478",
                                           "-i", Fixtures.path("h264_aac_10s.mp4"), "-map", "0:v", "-map", "1:a", "-c", "copy", late]).status == 0)
        let out = try package([late])
        let mpd = try String(contentsOf: out.appendingPathComponent("manifest.mpd"), encoding: .utf8)
        // Audio's first frame (0.478 s minus the 1024-sample priming frame) at 48 kHz.
        #expect(mpd.contains(#"<S t="21888""#), "audio no longer starts late")
        let shifted = dir.appendingPathComponent("shifted.mkv").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("two_languages_subs.mp4"), "-map", "0", "-c:v", "copy",
                                           "-c:a", "copy", "-c:s", "srt", "-output_ts_offset", "3", shifted]).status == 0)
        let subs = try package([shifted])
        let vtt = try String(contentsOf: subs.appendingPathComponent("text_eng/seg_1.vtt"), encoding: .utf8)
        #expect(vtt.contains("00:00:00.500 --> 00:00:02.500"), "\(vtt)")
        let validated = try Command.run(Fixtures.kerf, ["validate", subs.appendingPathComponent("manifest.mpd").path])
        #expect(validated.status == 0 && validated.stdout.hasSuffix("0 errors, 0 warnings\n"), "\(validated.stdout)")
    }

    /// Audio longer than the video keeps being cut at the target; a subtitles-only input joins
    /// the presentation; a track that starts late is numbered from its own first segment.
    @Test func unevenInputsPackage() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-uneven")
        defer { try? FileManager.default.removeItem(at: dir) }
        let audio = dir.appendingPathComponent("long.m4a").path, vtt = dir.appendingPathComponent("s.vtt").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=duration=25", "-c:a", "aac", audio]).status == 0)
        try "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n".write(toFile: vtt, atomically: true, encoding: .utf8)
        let out = try package([Fixtures.path("ladder_360p.mp4"), audio, vtt], ["--segment-duration", "2"])
        let segments = try entries(out.appendingPathComponent("audio_und_aac/playlist.m3u8"))
        #expect(segments.count >= 12)
        #expect(segments.allSatisfy { $0.duration < 2.1 }, "\(segments.map(\.duration))")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("text_und/seg_1.vtt").path))
        let late = dir.appendingPathComponent("late.mp4").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-itsoffset", "4.5",
                                           "-i", Fixtures.path("h264_aac_10s.mp4"), "-map", "0:v", "-map", "1:a", "-c", "copy", "-t", "10", late]).status == 0)
        let lateOut = try package([late], ["--segment-duration", "2"])
        let mpd = try String(contentsOf: lateOut.appendingPathComponent("manifest.mpd"), encoding: .utf8)
        let audioTemplate = mpd.components(separatedBy: #"initialization="audio_und_aac/init.mp4""#)[1]
        let startNumber = Int(audioTemplate.components(separatedBy: #"startNumber=""#)[1].prefix { $0.isNumber }) ?? 0
        #expect(startNumber == 3, "the audio's first segment is the third of the presentation")
        #expect(FileManager.default.fileExists(atPath: lateOut.appendingPathComponent("audio_und_aac/seg_\(startNumber).m4s").path))
    }

    /// AC-3 and E-AC-3 sample entries are built from a frame, not from codec parameters alone.
    @Test(arguments: [("ac3", "ac-3"), ("eac3", "ec-3")])
    func dolbyAudioPackages(codec: String, codecs: String) throws {
        let dir = try Fixtures.temporaryDirectory("kerf-dolby")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.mp4").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-map", "0:v", "-map", "0:a",
                                           "-c:v", "copy", "-c:a", codec, input]).status == 0)
        let out = try package([input])
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains("CODECS=\"avc1.64001e,\(codecs)\""))
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let path = out.appendingPathComponent(manifest).path
            #expect(Set(try streams(path).compactMap { $0["codec_name"] as? String }) == ["h264", codec])
            let decoded = try decode(path)
            #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(manifest): \(decoded.stderr)")
        }
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
    }

    @Test func mpegTSVariantsPlay() throws {
        let out = try package(Self.ladder, ["--formats", "hls-ts"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let path = out.appendingPathComponent("master.m3u8").path
        let found = try streams(path)
        #expect(Set(found.compactMap { $0["height"] as? Int }) == [360, 540, 720])
        let decoded = try decode(path)
        #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(decoded.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.mpd").path))
        // Annex B with parameter sets at the keyframe that opens each segment.
        let segment = try [UInt8](Data(contentsOf: out.appendingPathComponent("ts_video_360p/seg_2.ts")))
        #expect(segment.first == 0x47)
        let json = try Command.ffprobe(["-show_entries", "stream=codec_name", out.appendingPathComponent("ts_video_360p/seg_2.ts").path])
        #expect((json["streams"] as? [[String: Any]])?.compactMap { $0["codec_name"] as? String }.sorted() == ["aac", "h264"])
    }

    @Test func aes128DecryptsWithTheRightKeyOnly() throws {
        let key = "000102030405060708090a0b0c0d0e0f"
        let out = try package([Fixtures.path("h264_aac_10s.mp4")], ["--formats", "hls,hls-ts", "--encrypt", "aes-128", "--key", key])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let playlist = try String(contentsOf: out.appendingPathComponent("video_360p/playlist.m3u8"), encoding: .utf8)
        #expect(playlist.contains("#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"../key.bin\""))
        for manifest in ["master.m3u8", "master-ts.m3u8"] {
            let good = try decode(out.appendingPathComponent(manifest).path, ["-allowed_extensions", "ALL"])
            #expect(good.status == 0 && good.stderr.isEmpty, "\(manifest): \(good.stderr)")
        }
        // Segments are not readable in the clear.
        let clear = try Command.run("ffprobe", ["-v", "error", out.appendingPathComponent("ts_video_360p/seg_1.ts").path])
        #expect(clear.status != 0)
        try Data(repeating: 0xff, count: 16).write(to: out.appendingPathComponent("key.bin"))
        for manifest in ["master.m3u8", "master-ts.m3u8"] {
            let bad = try decode(out.appendingPathComponent(manifest).path, ["-allowed_extensions", "ALL"])
            #expect(bad.status != 0 || !bad.stderr.isEmpty, "\(manifest) decoded with a wrong key")
        }
    }

    @Test func runningTwiceGivesByteIdenticalTrees() throws {
        let a = try package(Self.ladder, ["--formats", "hls,dash,hls-ts"])
        let b = try package(Self.ladder, ["--formats", "hls,dash,hls-ts"])
        defer {
            try? FileManager.default.removeItem(at: a.deletingLastPathComponent())
            try? FileManager.default.removeItem(at: b.deletingLastPathComponent())
        }
        let diff = try Command.run("diff", ["-r", a.path, b.path])
        #expect(diff.status == 0, "\(diff.stdout)")
    }

    @Test func jsonSummaryDescribesTheRenditions() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-package")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Command.run(Fixtures.kerf, ["package", "--json"] + Self.ladder + ["-o", dir.appendingPathComponent("out").path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        let renditions = json?["renditions"] as? [[String: Any]] ?? []
        #expect(renditions.map { $0["folder"] as? String } == ["video_360p", "video_540p", "video_720p", "audio_und_aac"])
        #expect(renditions.allSatisfy { $0["segments"] as? Int == 2 })
        #expect((renditions.first?["peakBitRate"] as? Int ?? 0) > 200_000)
        #expect(json?["manifests"] as? [String] == ["master.m3u8", "manifest.mpd"])
    }
}
