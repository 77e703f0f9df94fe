import Foundation
import KerfTestSupport
import Testing
import KerfTestTags

@Suite(.tags(.integration)) struct ValidateCommandTests {
    let corpus = Fixtures.root.appendingPathComponent("manifests")

    @Test func exitCodesFollowTheFindings() throws {
        let clean = try Command.run(Fixtures.kerf, ["validate", corpus.appendingPathComponent("valid/multivariant.m3u8").path])
        #expect(clean.status == 0)
        #expect(clean.stdout.hasSuffix("0 errors, 0 warnings\n"))
        let broken = try Command.run(Fixtures.kerf, ["validate", corpus.appendingPathComponent("invalid/targetduration-too-small.m3u8").path])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("4 error [hls.targetduration-too-small] EXTINF 4.600 rounds to more than EXT-X-TARGETDURATION 4 (RFC 8216bis §4.4.3.1)"))
        let warningsOnly = try Command.run(Fixtures.kerf, ["validate", corpus.appendingPathComponent("invalid/video-authoring.m3u8").path])
        #expect(warningsOnly.status == 0)
        let missing = try Command.run(Fixtures.kerf, ["validate", "/nonexistent/x.m3u8"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "kerf: /nonexistent/x.m3u8: cannot read: no such file\n")
        let random = try Command.run(Fixtures.kerf, ["validate", Fixtures.path("random.bin")])
        #expect(random.status == 2)
        #expect(random.stderr.contains("neither an HLS playlist nor a DASH MPD"))
    }

    @Test func liveAndTimeoutOptionsAreChecked() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-validate-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let playlist = dir.appendingPathComponent("live.m3u8").path
        FileManager.default.createFile(atPath: dir.appendingPathComponent("s0.ts").path, contents: Data())
        try "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\ns0.ts\n".write(toFile: playlist, atomically: true, encoding: .utf8)
        // Watched for 4 s: the playlist never grows past its one segment (1.5 × 2 s + a poll).
        let stale = try Command.run(Fixtures.kerf, ["validate", "--live", "4", playlist])
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("error [hls.live-stale] no new segment for "))
        let zero = try Command.run(Fixtures.kerf, ["validate", "--live=0", playlist])
        #expect(zero.status == 2)
        #expect(zero.stderr.contains("--live must be between 0 and 86400 seconds"))
        let badTimeout = try Command.run(Fixtures.kerf, ["validate", "--timeout", "0", playlist])
        #expect(badTimeout.status == 2)
    }

    @Test func jsonOutputIsStable() throws {
        let result = try Command.run(Fixtures.kerf, ["validate", "--format", "json", corpus.appendingPathComponent("invalid/key-rules.m3u8").path])
        #expect(result.status == 1)
        let json = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        #expect(json?["errors"] as? Int == 3)
        #expect(json?["format"] as? String == "hls")
        let findings = json?["findings"] as? [[String: Any]] ?? []
        #expect(Set(findings.compactMap { $0["rule"] as? String }) == ["hls.key-uri-missing", "hls.key-iv", "hls.key-none-attributes"])
        #expect(findings.allSatisfy { $0["line"] is Int && $0["reference"] as? String == "RFC 8216bis §4.4.4.4" })
    }
}
