import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// `kerf package --encrypt cenc|cbcs`, checked with FFmpeg 5.1's mp4 demuxer as the decryption
/// oracle (`-decryption_key`, one fragment per file: init + one segment, segments of one GOP)
/// and xmllint with the DASH schema.
@Suite(.tags(.integration)) struct EncryptionTests {
    static let ladder = ["ladder_360p.mp4", "ladder_540p.mp4", "ladder_720p.mp4", "ladder_audio.m4a"].map(Fixtures.path)
    static let keyID = "00112233445566778899aabbccddeeff"
    static let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let wrongKey = "ffeeddccbbaa99887766554433221100"

    func package(_ inputs: [String], _ options: [String], into dir: URL, name: String) throws -> (URL, Command.Result) {
        let out = dir.appendingPathComponent(name)
        let result = try Command.run(Fixtures.kerf, ["package"] + inputs + ["-o", out.path, "--segment-duration", "2"] + options)
        try #require(result.status == 0, "kerf package \(options) failed: \(result.stderr)")
        return (out, result)
    }

    /// The frame checksums ffmpeg decodes from init + one segment (nil when it cannot decode).
    func frames(_ package: URL, _ rendition: String, _ segment: String, key: String?, scratch: URL) throws -> String? {
        let bytes = try Data(contentsOf: package.appendingPathComponent("\(rendition)/init.mp4"))
            + Data(contentsOf: package.appendingPathComponent("\(rendition)/\(segment)"))
        return try DecryptedFrames.framemd5(bytes, key: key, scratch: scratch)
    }

    /// Every segment of every rendition decrypts to the clear package's frames; with a wrong
    /// key none does (but clear-lead segments, which are clear).
    func compare(_ inputs: [String], scheme: String, extra: [String] = [], clearSegments: Int = 0) throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (clear, _) = try package(inputs, [], into: dir, name: "clear")
        let (protected, _) = try package(inputs, ["--encrypt", scheme, "--key", "\(Self.keyID):\(Self.key)"] + extra, into: dir, name: scheme)
        let renditions = try FileManager.default.contentsOfDirectory(atPath: clear.path).filter { $0.hasPrefix("video_") || $0.hasPrefix("audio_") }.sorted()
        #expect(renditions.count == inputs.count + (inputs.count == 1 ? 1 : 0))
        var checked = 0
        for rendition in renditions {
            let segments = try FileManager.default.contentsOfDirectory(atPath: clear.appendingPathComponent(rendition).path)
                .filter { $0.hasSuffix(".m4s") }.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
            #expect(segments.count >= 3)
            for (index, segment) in segments.enumerated() {
                let expected = try #require(try frames(clear, rendition, segment, key: nil, scratch: dir), "\(rendition)/\(segment) clear")
                let decrypted = try frames(protected, rendition, segment, key: Self.key, scratch: dir)
                #expect(decrypted == expected, "\(scheme) \(rendition)/\(segment) decrypts to other frames")
                let wrong = try frames(protected, rendition, segment, key: Self.wrongKey, scratch: dir)
                if index < clearSegments {
                    #expect(wrong == expected, "\(rendition)/\(segment) is in the clear lead")
                } else if scheme == "cbcs" && rendition.hasPrefix("audio_") && index == segments.count - 1 {
                    // A closing audio segment may hold only samples shorter than one AES block,
                    // which cbcs leaves clear.
                } else {
                    #expect(wrong != expected, "\(scheme) \(rendition)/\(segment) decodes with a wrong key")
                }
                checked += 1
            }
        }
        #expect(checked >= 7)
        let schema = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, protected.appendingPathComponent("manifest.mpd").path])
        #expect(schema.status == 0, "MPD does not validate: \(schema.stderr)")
    }

    @Test(arguments: ["cenc", "cbcs"]) func ladderDecryptsToTheClearFrames(_ scheme: String) throws {
        try compare(Self.ladder, scheme: scheme)
    }

    @Test(arguments: ["cenc", "cbcs"]) func hevcDecryptsToTheClearFrames(_ scheme: String) throws {
        try compare([Fixtures.path("hevc_aac.mp4")], scheme: scheme)
    }

    @Test func clearLeadSegmentsPlayWithoutTheKey() throws {
        try compare([Fixtures.path("h264_aac_10s.mp4")], scheme: "cbcs", extra: ["--clear-lead", "3"], clearSegments: 2)
    }

    @Test func signallingInTheMPDAndPlaylists() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = "11112233445566778899aabbccddeeff", audio = "22112233445566778899aabbccddeeff"
        let (out, _) = try package([Fixtures.path("h264_aac_10s.mp4")],
                                   ["--encrypt", "cbcs", "--key", "video=\(video):\(Self.key)", "--key", "audio=\(audio):\(Self.wrongKey)"],
                                   into: dir, name: "out")
        let mpd = try String(contentsOf: out.appendingPathComponent("manifest.mpd"), encoding: .utf8)
        #expect(mpd.contains("xmlns:cenc=\"urn:mpeg:cenc:2013\""))
        #expect(mpd.contains("<ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"cbcs\" cenc:default_KID=\"11112233-4455-6677-8899-aabbccddeeff\"/>"))
        #expect(mpd.contains("cenc:default_KID=\"22112233-4455-6677-8899-aabbccddeeff\""))
        #expect(mpd.contains("schemeIdUri=\"urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e\" value=\"ClearKey1.0\""))
        #expect(mpd.contains("schemeIdUri=\"urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b\""))
        #expect(mpd.components(separatedBy: "<cenc:pssh>").count == 5)
        let playlist = try String(contentsOf: out.appendingPathComponent("video_360p/playlist.m3u8"), encoding: .utf8)
        #expect(playlist.contains("#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../key_\(video).bin\",KEYID=0x\(video),KEYFORMAT=\"identity\"\n"))
        let master = try String(contentsOf: out.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"key_\(video).bin\",KEYID=0x\(video),KEYFORMAT=\"identity\""))
        #expect(master.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"key_\(audio).bin\",KEYID=0x\(audio),KEYFORMAT=\"identity\""))
        #expect(try Data(contentsOf: out.appendingPathComponent("key_\(video).bin")).map { String(format: "%02x", $0) }.joined() == Self.key)
        // No pssh in init segments unless asked for; with --pssh-in-init, one.
        let initSegment = try Data(contentsOf: out.appendingPathComponent("video_360p/init.mp4"))
        #expect(initSegment.range(of: Data("pssh".utf8)) == nil)
        let (withPSSH, _) = try package([Fixtures.path("h264_aac_10s.mp4")],
                                        ["--encrypt", "cenc", "--key", "\(video):\(Self.key)", "--pssh-in-init", "--formats", "dash"],
                                        into: dir, name: "pssh")
        #expect(try Data(contentsOf: withPSSH.appendingPathComponent("video_360p/init.mp4")).range(of: Data("pssh".utf8)) != nil)
        #expect(!FileManager.default.fileExists(atPath: withPSSH.appendingPathComponent("key_\(video).bin").path), "no HLS, no key file")
    }

    @Test func sameInputsAndKeysGiveIdenticalBytes() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        for scheme in ["cenc", "cbcs"] {
            let options = ["--encrypt", scheme, "--key", "\(Self.keyID):\(Self.key)", "--clear-lead", "2"]
            let (a, _) = try package(Self.ladder, options, into: dir, name: "\(scheme)-a")
            let (b, _) = try package(Self.ladder, options, into: dir, name: "\(scheme)-b")
            let diff = try Command.run("diff", ["-r", a.path, b.path])
            #expect(diff.status == 0, "\(diff.stdout)")
        }
    }

    /// Keys reach neither stdout, stderr nor --json, in a run or in an error.
    @Test func keysNeverAppearInOutput() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let secrets = [Self.key, Self.key.uppercased(), "0f:1e:2d", "15, 30, 45"]
        func check(_ result: Command.Result, _ what: String) {
            for secret in secrets {
                #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret), "\(what) shows the key")
            }
        }
        for options in [["--json"], ["--verbose"], ["--json", "--verbose"]] {
            let (_, result) = try package([Fixtures.path("h264_aac_10s.mp4")],
                                          ["--encrypt", "cbcs", "--key", "\(Self.keyID):\(Self.key)"] + options,
                                          into: dir, name: "out\(options.count)\(options.first!)")
            check(result, "\(options)")
            if options == ["--json"] { #expect((try? JSONSerialization.jsonObject(with: result.stdoutData)) != nil) }
        }
        let out = dir.appendingPathComponent("bad").path
        for options in [["--key", "\(Self.keyID):\(Self.key)", "--iv", "00"],
                        ["--key", "\(Self.keyID):\(Self.key)zz"],
                        ["--key", "\(Self.keyID)z:\(Self.key)"],
                        ["--key", "sound=\(Self.keyID):\(Self.key)"],
                        ["--key", "\(Self.keyID):\(Self.key)", "--key", "\(Self.keyID):\(Self.wrongKey)"],
                        ["--key", "\(Self.keyID):\(Self.key)", "--formats", "hls-ts"]] {
            let result = try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--encrypt", "cenc"] + options)
            #expect(result.status == 2, "\(options): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("kerf: "), "\(result.stderr)")
            check(result, "\(options)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func aes128OnCMAFWarnsOnceAndStillWorks() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, result) = try package([Fixtures.path("h264_aac_10s.mp4")], ["--formats", "hls", "--encrypt", "aes-128", "--key", Self.key],
                                      into: dir, name: "aes")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("Chromium") == true && lines.first?.contains("hlsdemux") == true && lines.first?.contains("cbcs") == true)
        let (_, ts) = try package([Fixtures.path("h264_aac_10s.mp4")], ["--formats", "hls-ts", "--encrypt", "aes-128", "--key", Self.key],
                                  into: dir, name: "aes-ts")
        #expect(ts.stderr.isEmpty)
    }
}
