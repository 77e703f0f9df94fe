import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// CEA-608 captions carried in the video (Fixtures/captions_608.mp4: CC1, two pop-on captions
/// written into the SEI by Fixtures/add-cea608.py): `kerf probe` finds them, packages keep them
/// in the video and signal them, and FFmpeg's closed-caption decoder (lavfi `movie=…[out0+subcc]`)
/// reads the same text from what Kerf wrote as from the input.
@Suite(.tags(.integration)) struct ClosedCaptionTests {
    static let input = Fixtures.path("captions_608.mp4")

    /// The caption texts FFmpeg decodes from a file, with their start times in milliseconds.
    static func captions(in path: String) throws -> [(start: Int, text: String)] {
        let result = try Command.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "movie=\(path)[out0+subcc]",
                                                "-map", "0:1", "-f", "srt", "-"])
        try #require(result.status == 0, "\(result.stderr)")
        var found: [(Int, String)] = []
        for block in result.stdout.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n").map(String.init)
            guard lines.count >= 3, let time = lines[1].firstMatch(of: /^(\d\d):(\d\d):(\d\d),(\d\d\d)/) else { continue }
            let start = ((Int(time.1)! * 60 + Int(time.2)!) * 60 + Int(time.3)!) * 1000 + Int(time.4)!
            let text = lines[2].replacing(/<[^>]*>/, with: "").replacing(/\{[^}]*\}/, with: "")
            found.append((start, text))
        }
        return found
    }

    /// A rendition's init segment and media segments joined into one fragmented MP4.
    static func joined(_ folder: URL, into file: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("seg_") }
            .sorted { Int($0.dropFirst(4).prefix { $0.isNumber })! < Int($1.dropFirst(4).prefix { $0.isNumber })! }
        var bytes = (try? Data(contentsOf: folder.appendingPathComponent("init.mp4"))) ?? Data()
        for name in names { bytes += try Data(contentsOf: folder.appendingPathComponent(name)) }
        try bytes.write(to: file)
    }

    @Test func probeNamesTheChannels() throws {
        let result = try Command.run(Fixtures.kerf, ["probe", "--json", Self.input])
        try #require(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])
        let streams = try #require(document["streams"] as? [[String: Any]])
        #expect(streams[0]["closedCaptions"] as? [String] == ["CC1"])
        #expect(streams[1]["closedCaptions"] == nil)
        let plain = try Command.run(Fixtures.kerf, ["probe", Fixtures.path("h264_aac_10s.mp4")])
        #expect(!plain.stdout.contains("closed captions"))
        #expect(try Command.run(Fixtures.kerf, ["probe", Self.input]).stdout.contains("closed captions: CC1"))
    }

    @Test func packagesSignalAndKeepTheCaptions() throws {
        let expected = try Self.captions(in: Self.input)
        #expect(expected.map(\.text) == ["KERF CAPTIONS ONE", "SECOND CAPTION"])
        let dir = try Fixtures.temporaryDirectory("kerf-captions")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let result = try Command.run(Fixtures.kerf, ["package", Self.input, "-o", out.path, "--segment-duration", "2",
                                                     "--formats", "hls,dash,hls-ts", "--set", "0:0:captions=CC1=eng"])
        try #require(result.status == 0, "\(result.stderr)")

        for playlist in ["master.m3u8", "master-ts.m3u8"] {
            let text = try String(contentsOf: out.appendingPathComponent(playlist), encoding: .utf8)
            #expect(text.contains(#"#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,INSTREAM-ID="CC1""#), "\(playlist)")
            let variants = text.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF") }
            #expect(!variants.isEmpty && variants.allSatisfy { $0.hasSuffix(#"CLOSED-CAPTIONS="cc""#) }, "\(playlist)")
        }
        let mpd = out.appendingPathComponent("manifest.mpd")
        #expect(try String(contentsOf: mpd, encoding: .utf8)
            .contains(#"<Accessibility schemeIdUri="urn:scte:dash:cc:cea-608:2015" value="CC1=eng"/>"#))
        let schema = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, mpd.path])
        #expect(schema.status == 0, "\(schema.stderr)")
        let validate = try Command.run(Fixtures.kerf, ["validate", out.appendingPathComponent("master.m3u8").path])
        #expect(validate.status == 0, "\(validate.stdout)")

        // The captions ride in the copied video: CMAF and MPEG-TS decode to the input's text,
        // at the same times (within a frame).
        let cmaf = dir.appendingPathComponent("video.mp4")
        try Self.joined(out.appendingPathComponent("video_360p"), into: cmaf)
        let transport = dir.appendingPathComponent("video.ts")
        let tsNames = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("ts_video_360p").path)
            .filter { $0.hasSuffix(".ts") }.sorted { Int($0.dropFirst(4).dropLast(3))! < Int($1.dropFirst(4).dropLast(3))! }
        try tsNames.reduce(Data()) { $0 + (try Data(contentsOf: out.appendingPathComponent("ts_video_360p/\($1)"))) }.write(to: transport)
        for file in [cmaf, transport] {
            let found = try Self.captions(in: file.path)
            #expect(found.map(\.text) == expected.map(\.text), "\(file.lastPathComponent)")
            for (a, b) in zip(found, expected) { #expect(abs(a.start - b.start) <= 40, "\(file.lastPathComponent): \(a.start) vs \(b.start)") }
        }
    }

    @Test func aTranscodedLadderKeepsTheCaptions() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-captions-ladder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let result = try Command.run(Fixtures.kerf, ["package", Self.input, "-o", out.path, "--segment-duration", "2",
                                                     "--ladder", "360p:400k,180p:150k"])
        try #require(result.status == 0, "\(result.stderr)")
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.split(separator: "\n").filter { $0.hasSuffix(#"CLOSED-CAPTIONS="cc""#) }.count == 2)
        for rung in ["video_360p", "video_180p"] {
            let file = dir.appendingPathComponent("\(rung).mp4")
            try Self.joined(out.appendingPathComponent(rung), into: file)
            #expect(try Self.captions(in: file.path).map(\.text) == ["KERF CAPTIONS ONE", "SECOND CAPTION"], "\(rung)")
        }
    }

    @Test func videoWithoutCaptionsSaysNone() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-captions-none")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Command.run(Fixtures.kerf, ["package", Fixtures.path("ladder_360p.mp4"), Fixtures.path("ladder_540p.mp4"),
                                                     "-o", dir.path + "/out", "--segment-duration", "2"])
        try #require(result.status == 0, "\(result.stderr)")
        let master = try String(contentsOfFile: dir.path + "/out/master.m3u8", encoding: .utf8)
        let variants = master.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-STREAM-INF") }
        #expect(variants.count == 2 && variants.allSatisfy { $0.hasSuffix("CLOSED-CAPTIONS=NONE") })
        #expect(!master.contains("TYPE=CLOSED-CAPTIONS"))
        #expect(!(try String(contentsOfFile: dir.path + "/out/manifest.mpd", encoding: .utf8)).contains("Accessibility"))
    }

    @Test func badCaptionLabelsAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-captions-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        for value in ["CC9=eng", "CC1", "SERVICE64=eng", "CC1=e", "CC1=eng:", "CC01=eng"] {
            let result = try Command.run(Fixtures.kerf, ["package", Self.input, "-o", dir.path + "/out", "--set", "0:0:captions=\(value)"])
            #expect(result.status == 2, "\(value): \(result.status)")
            #expect(result.stderr.contains("bad captions"), "\(value): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/out"))
        }
        let audio = try Command.run(Fixtures.kerf, ["package", Self.input, "-o", dir.path + "/out", "--set", "0:1:captions=CC1=eng"])
        #expect(audio.status == 2 && audio.stderr.contains("stream 0:1 is audio, not video"), "\(audio.stderr)")
    }
}
