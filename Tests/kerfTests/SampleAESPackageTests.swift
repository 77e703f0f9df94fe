import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// `kerf package --formats hls-ts --encrypt cbcs`: Apple SAMPLE-AES MPEG-TS variants, with
/// FFmpeg 5.1's HLS demuxer (which decrypts SAMPLE-AES TS with the key its playlist names) as
/// the oracle: the encrypted package decodes to the clear package's frames, and with a wrong
/// key file to other frames. OpenSSL's command line computes the IV Kerf derives.
@Suite(.tags(.integration)) struct SampleAESPackageTests {
    static let keyID = "00112233445566778899aabbccddeeff"
    static let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let wrongKey = "ffeeddccbbaa99887766554433221100"
    /// A rendition whose slices hold emulation prevention bytes mid-unit (h264_aac_10s has one
    /// only, in the last bytes of a slice, where its loss changes no picture), and the audio.
    static let inputs = ["ladder_360p.mp4", "ladder_audio.m4a"].map(Fixtures.path)

    func package(_ options: [String], into dir: URL, name: String) throws -> URL {
        let out = dir.appendingPathComponent(name)
        let result = try Command.run(Fixtures.kerf, ["package"] + Self.inputs + ["-o", out.path, "--segment-duration", "2"] + options)
        try #require(result.status == 0, "kerf package \(options) failed: \(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        return out
    }

    /// The frame checksums of each stream ffmpeg decodes from a playlist.
    func frames(_ playlist: URL) throws -> [String: [String]] {
        let result = try Command.run("ffmpeg", ["-v", "error", "-allowed_extensions", "ALL", "-i", playlist.path, "-map", "0",
                                                "-f", "framemd5", "-"])
        var streams: [String: [String]] = [:]
        for line in result.stdout.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 6 else { continue }
            streams[fields[0], default: []].append(fields[1...].joined(separator: ","))
        }
        return streams
    }

    /// The frames of a TS variant of an encrypted package, each stream's first `counts` frames.
    /// FFmpeg 5.1's HLS demuxer decrypts a packet only while a segment of the playlist is
    /// current, so the packets its MPEG-TS demuxer and H.264 parser still hold when the last
    /// segment ends (the last one or two pictures) come out undecrypted. The playlist read here
    /// is the variant's with its first segment repeated after the last (behind a
    /// discontinuity), so every frame of the package proper is decrypted; the frames of the
    /// repeat are left out.
    func decryptedFrames(_ package: URL, variant: String, counts: [String: Int]) throws -> [String: [String]] {
        let playlist = try String(contentsOf: package.appendingPathComponent("\(variant)/playlist.m3u8"), encoding: .utf8)
        let oracle = package.appendingPathComponent("\(variant)/oracle.m3u8")
        try playlist.replacingOccurrences(of: "#EXT-X-ENDLIST\n", with: "#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nseg_1.ts\n#EXT-X-ENDLIST\n")
            .write(to: oracle, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: oracle) }
        return try frames(oracle).reduce(into: [String: [String]]()) { result, entry in
            result[entry.key] = Array(entry.value.prefix(counts[entry.key] ?? 0))
        }
    }

    /// Stream properties ffprobe reads from a segment or a playlist.
    func probe(_ path: URL, entries: String = "codec_type,codec_name,profile,width,height,pix_fmt,channels") throws -> [String] {
        let json = try Command.ffprobe(["-allowed_extensions", "ALL", "-show_entries", "stream=\(entries)", path.path])
        return (json["streams"] as? [[String: Any]] ?? []).map { stream in
            stream.keys.sorted().map { "\($0)=\(stream[$0]!)" }.joined(separator: " ")
        }
    }

    func segments(_ package: URL, _ variant: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: package.appendingPathComponent(variant).path)
            .filter { $0.hasSuffix(".ts") }.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
    }

    /// HMAC-SHA256 by OpenSSL's command line, hex.
    func hmac(key: String, _ message: String) throws -> String {
        let result = try Command.run("sh", ["-c", "printf %s '\(message)' | openssl dgst -sha256 -mac HMAC -macopt hexkey:\(key)"])
        try #require(result.status == 0, "\(result.stderr)")
        return String(result.stdout.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func decryptsToTheClearFramesAndOnlyWithTheKey() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-sample-aes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clear = try package(["--formats", "hls-ts"], into: dir, name: "clear")
        let protected = try package(["--formats", "hls-ts", "--encrypt", "cbcs", "--key", "\(Self.keyID):\(Self.key)"],
                                    into: dir, name: "protected")
        let expected = try frames(clear.appendingPathComponent("master.m3u8"))
        try #require(expected.count == 2 && expected.values.allSatisfy { $0.count > 100 }, "clear package: \(expected.keys)")
        let counts = expected.mapValues(\.count)
        let decrypted = try decryptedFrames(protected, variant: "ts_video_360p", counts: counts)
        for stream in expected.keys.sorted() {
            #expect(decrypted[stream] == expected[stream], "stream \(stream) decrypts to other frames")
        }
        // Through the multivariant playlist too, but for the pictures FFmpeg leaves encrypted.
        let direct = try frames(protected.appendingPathComponent("master.m3u8"))
        #expect(direct["1"] == expected["1"])
        let differing = zip(direct["0"] ?? [], expected["0"]!).filter { $0 != $1 }.count
        #expect(direct["0"]?.count == expected["0"]!.count && differing <= 2, "\(differing) pictures differ")
        let all = "codec_type,codec_name,profile,width,height,pix_fmt,sample_rate,channels"
        #expect(try probe(protected.appendingPathComponent("master.m3u8"), entries: all) == probe(clear.appendingPathComponent("master.m3u8"), entries: all))

        // Every segment is encrypted, and still probes as the same streams (without the key
        // the AAC sample rate is not known: it comes from decoding).
        let names = try segments(clear, "ts_video_360p"), protectedNames = try segments(protected, "ts_video_360p")
        #expect(names.count == 5 && names == protectedNames)
        for name in names {
            let a = clear.appendingPathComponent("ts_video_360p/\(name)"), b = protected.appendingPathComponent("ts_video_360p/\(name)")
            #expect(try Data(contentsOf: a) != Data(contentsOf: b), "\(name) is not encrypted")
            #expect(try probe(a) == probe(b), "\(name) probes as other streams")
        }

        // The playlists: SAMPLE-AES with the key file, the IV derived from the key and the folder.
        let iv = try hmac(key: Self.key, "kerf cbcs iv ts_video_360p").prefix(32)
        #expect(iv.count == 32)
        let playlist = try String(contentsOf: protected.appendingPathComponent("ts_video_360p/playlist.m3u8"), encoding: .utf8)
        #expect(playlist.contains("#EXT-X-VERSION:5\n"))
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../key_\(Self.keyID).bin\",IV=0x\(iv),KEYID=0x\(Self.keyID),KEYFORMAT=\"identity\"\n#EXTINF:"))
        let master = try String(contentsOf: protected.appendingPathComponent("master.m3u8"), encoding: .utf8)
        #expect(master.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"key_\(Self.keyID).bin\",KEYID=0x\(Self.keyID),KEYFORMAT=\"identity\"\n"))
        #expect(try Data(contentsOf: protected.appendingPathComponent("key_\(Self.keyID).bin")).map { String(format: "%02x", $0) }.joined() == Self.key)

        // A wrong key file: every stream decodes to other frames (or not at all).
        try Data(Self.hex(Self.wrongKey)).write(to: protected.appendingPathComponent("key_\(Self.keyID).bin"))
        let wrong = try decryptedFrames(protected, variant: "ts_video_360p", counts: counts)
        for stream in expected.keys.sorted() {
            #expect(wrong[stream] != expected[stream], "stream \(stream) decodes with a wrong key")
        }
    }

    /// With CMAF and MPEG-TS together: the CMAF playlists keep their signalling (no IV), the
    /// TS variants get theirs in master-ts.m3u8, `--iv` is the IV of both, and the TS variant
    /// still decodes to the clear frames.
    @Test func cmafAndTransportStreamTogether() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-sample-aes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let iv = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
        let clear = try package(["--formats", "hls-ts"], into: dir, name: "clear")
        let both = try package(["--formats", "hls,hls-ts", "--encrypt", "cbcs", "--key", "\(Self.keyID):\(Self.key)", "--iv", iv],
                               into: dir, name: "both")
        let expected = try frames(clear.appendingPathComponent("master.m3u8"))
        #expect(try decryptedFrames(both, variant: "ts_video_360p", counts: expected.mapValues(\.count)) == expected)
        let ts = try String(contentsOf: both.appendingPathComponent("ts_video_360p/playlist.m3u8"), encoding: .utf8)
        #expect(ts.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../key_\(Self.keyID).bin\",IV=0x\(iv),KEYID=0x\(Self.keyID),KEYFORMAT=\"identity\"\n"))
        let cmaf = try String(contentsOf: both.appendingPathComponent("video_360p/playlist.m3u8"), encoding: .utf8)
        #expect(cmaf.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../key_\(Self.keyID).bin\",KEYID=0x\(Self.keyID),KEYFORMAT=\"identity\"\n"))
        for manifest in ["master.m3u8", "master-ts.m3u8"] {
            let text = try String(contentsOf: both.appendingPathComponent(manifest), encoding: .utf8)
            #expect(text.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"key_\(Self.keyID).bin\",KEYID=0x\(Self.keyID),KEYFORMAT=\"identity\"\n"), "\(manifest)")
        }
    }

    /// cenc with hls-ts, and codecs SAMPLE-AES MPEG-TS does not cover, are refused in one line.
    @Test func refusesWhatSampleAESCannotCarry() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-sample-aes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        for (inputs, scheme, needle) in [(Self.inputs, "cenc", "cbcs"), ([Fixtures.path("hevc_aac.mp4")], "cbcs", "hevc")] {
            let result = try Command.run(Fixtures.kerf, ["package"] + inputs + ["-o", out, "--formats", "hls-ts", "--encrypt", scheme,
                                                         "--key", "\(Self.keyID):\(Self.key)"])
            #expect(result.status == 2, "\(scheme): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("kerf: ") && result.stderr.contains(needle),
                    "\(result.stderr)")
            #expect(!result.stderr.contains(Self.key))
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...($0 + 1)]), radix: 16)! }
    }
}
