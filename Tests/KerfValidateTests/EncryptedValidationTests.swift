import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfValidate

/// `--deep --key` on encrypted presentations Kerf and Shaka Packager write: they validate with
/// their keys, a wrong key or a tampered key ID is named, and without keys only information
/// remains.
@Suite(.tags(.integration)) struct EncryptedValidationTests {
    static let ladder = ["ladder_360p.mp4", "ladder_540p.mp4", "ladder_720p.mp4", "ladder_audio.m4a"].map(Fixtures.path)
    static let keyID = "00112233445566778899aabbccddeeff"
    static let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let wrongKey = "ffeeddccbbaa99887766554433221100"

    static func validator(_ keys: [String]) throws -> Validator {
        var validator = Validator(deep: true)
        for key in keys { try validator.keys.add(parsing: key) }
        return validator
    }

    static func describe(_ report: ValidationReport) -> String {
        report.findings.map { "\($0.severity) \($0.rule): \($0.message)" }.joined(separator: "\n")
    }

    func package(_ inputs: [String], _ options: [String], into dir: URL, name: String) throws -> URL {
        let out = dir.appendingPathComponent(name)
        let result = try Command.run(Fixtures.kerf, ["package"] + inputs + ["-o", out.path, "--segment-duration", "2"] + options)
        try #require(result.status == 0, "kerf package \(options) failed: \(result.stderr)")
        return out
    }

    /// Clean with the key (but for `known` errors); a wrong key fails every rendition; without
    /// keys information only.
    static func checkKeys(_ manifest: String, keyIDs: [String], renditions: Int, prefix: String, known: Set<String> = []) async throws {
        let right = try await Self.validator(keyIDs.map { "\($0):\(Self.key)" }).validate(manifest)
        #expect(Set(right.findings.filter { $0.severity == .error }.map(\.rule)) == known, "\(manifest):\n\(Self.describe(right))")
        #expect(!right.findings.contains { $0.rule.hasSuffix("segment-encrypted") }, "\(Self.describe(right))")
        let wrong = try await Self.validator(keyIDs.map { "\($0):\(Self.wrongKey)" }).validate(manifest)
        let failed = wrong.findings.filter { $0.rule == "\(prefix).decryption-failed" }
        #expect(Set(failed.map { $0.file + ($0.path ?? "") }).count == renditions, "\(Self.describe(wrong))")
        #expect(failed.allSatisfy { $0.severity == .error && !$0.message.contains(Self.wrongKey) })
        #expect(Set(wrong.findings.filter { $0.severity == .error }.map(\.rule)) == known.union(["\(prefix).decryption-failed"]),
                "\(Self.describe(wrong))")
    }

    @Test(arguments: ["cbcs", "cenc"]) func kerfLadderValidatesWithItsKey(_ scheme: String) async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try package(Self.ladder, ["--encrypt", scheme, "--key", "\(Self.keyID):\(Self.key)"], into: dir, name: scheme)
        let mpd = out.appendingPathComponent("manifest.mpd").path, master = out.appendingPathComponent("master.m3u8").path
        try await Self.checkKeys(mpd, keyIDs: [Self.keyID], renditions: 4, prefix: "dash")
        // Without keys: the timing checks run, the samples are named as not checked.
        let keyless = try await Validator(deep: true).validate(mpd)
        #expect(keyless.errors == 0 && keyless.warnings == 0, "\(Self.describe(keyless))")
        #expect(keyless.findings.filter { $0.rule == "dash.segment-encrypted" }.count == 4)
        // The identity key files of the package serve HLS; with them gone, --key does.
        let served = try await Validator(deep: true).validate(master)
        #expect(served.findings.isEmpty, "\(Self.describe(served))")
        try FileManager.default.removeItem(at: out.appendingPathComponent("key_\(Self.keyID).bin"))
        try await Self.checkKeys(master, keyIDs: [Self.keyID], renditions: 4, prefix: "hls")
        let hlsKeyless = try await Validator(deep: true).validate(master)
        #expect(hlsKeyless.errors == 0 && hlsKeyless.findings.contains { $0.rule == "hls.segment-encrypted" }, "\(Self.describe(hlsKeyless))")

        // A tampered cenc:default_KID, KEYID and scheme are named.
        var text = try String(contentsOfFile: mpd, encoding: .utf8)
        text = text.replacingOccurrences(of: "cenc:default_KID=\"00112233-4455-6677-8899-aabbccddeeff\"",
                                         with: "cenc:default_KID=\"00112233-4455-6677-8899-aabbccddee00\"")
        text = text.replacingOccurrences(of: "value=\"\(scheme)\"", with: "value=\"\(scheme == "cbcs" ? "cenc" : "cbcs")\"")
        try text.write(toFile: mpd, atomically: true, encoding: .utf8)
        let tampered = try await Self.validator(["\(Self.keyID):\(Self.key)"]).validate(mpd)
        #expect(Set(tampered.findings.map(\.rule)) == ["dash.kid-mismatch", "dash.scheme-mismatch"], "\(Self.describe(tampered))")
        #expect(tampered.findings.first { $0.rule == "dash.kid-mismatch" }?.message.contains("00112233-4455-6677-8899-aabbccddee00") == true)
        let playlist = out.appendingPathComponent("video_360p/playlist.m3u8").path
        var media = try String(contentsOfFile: playlist, encoding: .utf8)
        let method = scheme == "cbcs" ? "SAMPLE-AES" : "SAMPLE-AES-CTR", other = scheme == "cbcs" ? "SAMPLE-AES-CTR" : "SAMPLE-AES"
        media = media.replacingOccurrences(of: "KEYID=0x\(Self.keyID)", with: "KEYID=0x99887766554433221100ffeeddccbbaa")
            .replacingOccurrences(of: "METHOD=\(method),", with: "METHOD=\(other),")
        try media.write(toFile: playlist, atomically: true, encoding: .utf8)
        let hlsTampered = try await Self.validator(["\(Self.keyID):\(Self.key)"]).validate(master)
        #expect(Set(hlsTampered.findings.map(\.rule)).isSuperset(of: ["hls.kid-mismatch", "hls.scheme-mismatch"]), "\(Self.describe(hlsTampered))")
        #expect(hlsTampered.findings.allSatisfy { $0.file == playlist || $0.rule == "hls.session-key" }, "\(Self.describe(hlsTampered))")
    }

    @Test(arguments: ["cenc", "cbcs"]) func hevcWithAKeyPerTrackType(_ scheme: String) async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = "11112233445566778899aabbccddeeff", audio = "22112233445566778899aabbccddeeff"
        let out = try package([Fixtures.path("hevc_aac.mp4")], ["--encrypt", scheme, "--key", "video=\(video):\(Self.key)",
                                                                "--key", "audio=\(audio):\(Self.key)", "--pssh-in-init", "--formats", "dash"],
                              into: dir, name: scheme)
        try await Self.checkKeys(out.appendingPathComponent("manifest.mpd").path, keyIDs: [video, audio], renditions: 2, prefix: "dash")
        // Only the video key: the audio is named as not checked, nothing fails.
        let half = try await Self.validator(["\(video):\(Self.key)"]).validate(out.appendingPathComponent("manifest.mpd").path)
        #expect(half.errors == 0 && half.findings.map(\.rule) == ["dash.segment-encrypted"], "\(Self.describe(half))")
        #expect(half.findings.first?.message.contains(audio) == true)
    }

    /// Kerf's default segments hold several fragments each, which libavformat 5.1 cannot read
    /// while they carry their sample encryption boxes: they are read all the same.
    @Test func segmentsOfSeveralFragments() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate-cenc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cbcs")
        let packaged = try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out.path, "--formats", "dash",
                                                       "--encrypt", "cbcs", "--key", "\(Self.keyID):\(Self.key)"])
        try #require(packaged.status == 0, "\(packaged.stderr)")
        let segment = try Data(contentsOf: out.appendingPathComponent("video_360p/seg_1.m4s"))
        #expect(segment.split(separator: Data("moof".utf8)).count > 2, "the segment has one fragment only")
        let mpd = out.appendingPathComponent("manifest.mpd").path
        let keyless = try await Validator(deep: true).validate(mpd)
        #expect(keyless.errors == 0, "\(Self.describe(keyless))")
        try await Self.checkKeys(mpd, keyIDs: [Self.keyID], renditions: 2, prefix: "dash")
    }

    @Test func aes128WithABareKeyWhenTheKeyURICannotBeRead() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate-aes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try package([Fixtures.path("h264_aac_10s.mp4")], ["--formats", "hls-ts", "--encrypt", "aes-128", "--key", Self.key],
                              into: dir, name: "aes")
        try FileManager.default.removeItem(at: out.appendingPathComponent("key.bin"))
        let master = out.appendingPathComponent("master.m3u8").path
        let keyless = try await Validator(deep: true).validate(master)
        #expect(keyless.errors == 0 && keyless.findings.contains { $0.rule == "hls.segment-encrypted" })
        let bare = try await Self.validator([Self.key]).validate(master)
        #expect(bare.findings.filter { $0.rule != "hls.uri-resolves" }.isEmpty, "\(Self.describe(bare))")
        let wrong = try await Self.validator([Self.wrongKey]).validate(master)
        #expect(wrong.findings.contains { $0.rule == "hls.decryption-failed" }, "\(Self.describe(wrong))")
    }

    /// `kerf validate --deep --key`: exit status, and the key in no output.
    @Test func keyOptionOnTheCommandLine() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try package([Fixtures.path("h264_aac_10s.mp4")], ["--encrypt", "cbcs", "--key", "\(Self.keyID):\(Self.key)", "--formats", "dash"],
                              into: dir, name: "cbcs")
        let mpd = out.appendingPathComponent("manifest.mpd").path
        for format in ["text", "json"] {
            let right = try Command.run(Fixtures.kerf, ["validate", "--deep", "--key", "\(Self.keyID):\(Self.key)", "--format", format, mpd])
            #expect(right.status == 0, "\(right.stdout)")
            let wrong = try Command.run(Fixtures.kerf, ["validate", "--deep", "--key", "\(Self.keyID):\(Self.wrongKey)", "--format", format, mpd])
            #expect(wrong.status == 1 && wrong.stdout.contains("dash.decryption-failed"))
            for result in [right, wrong] {
                for secret in [Self.key, Self.wrongKey] { #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret)) }
            }
        }
        for options in [["--key", "\(Self.keyID):\(Self.key)"], ["--deep", "--key", "\(Self.keyID):\(Self.key)zz"],
                        ["--deep", "--key", "\(Self.keyID):\(Self.key)", "--key", "\(Self.keyID):\(Self.wrongKey)"]] {
            let result = try Command.run(Fixtures.kerf, ["validate"] + options + [mpd])
            #expect(result.status == 2, "\(options): \(result.stderr)")
            #expect(!result.stderr.contains(Self.key) && !result.stderr.contains(Self.wrongKey) && result.stderr.contains("--key"))
        }
    }
}
