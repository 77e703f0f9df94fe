import Foundation
import KerfManifest
import KerfTestSupport
import KerfXML
import Testing
@testable import KerfValidate
import KerfTestTags

/// Hostile and edge-case inputs the validator once crashed on or misjudged.
@Suite(.tags(.unit)) struct ValidatorRegressionTests {
    func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func overflowingNumbersAreFindingsNotCrashes() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-regress")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 0, count: 100).write(to: dir.appendingPathComponent("a.ts"))
        let ranges = try write("#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n#EXT-X-BYTERANGE:9223372036854775807@9223372036854775807\na.ts\n#EXT-X-ENDLIST\n", "r.m3u8", in: dir)
        let report = try await Validator(deep: true).validate(ranges)
        #expect(report.findings.contains { $0.rule == "hls.segment-unreadable" })
        let sequence = try write("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:18446744073709551615\n#EXTINF:4.0,\na.ts\n#EXTINF:4.0,\na.ts\n#EXT-X-ENDLIST\n", "s.m3u8", in: dir)
        #expect(try await Validator(deep: true).validate(sequence).findings.contains { $0.rule == "hls.media-sequence" })
    }

    @Test func unreadableAndSelfReferencingChildrenAreFindings() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-regress")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("folder.m3u8"), withIntermediateDirectories: true)
        let master = try write("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"mp4a.40.2\"\nfolder.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"mp4a.40.2\"\nmaster.m3u8\n", "master.m3u8", in: dir)
        let report = try await Validator().validate(master)
        #expect(Set(report.findings.map(\.rule)) == ["hls.uri-resolves", "hls.playlist-loop"])
    }

    @Test func byteRangesWithoutOffsetContinueThePreviousOne() async throws {
        let document = try HLSDocument.parse(Array("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:100@10\nf.mp4\n#EXTINF:4,\n#EXT-X-BYTERANGE:50\nf.mp4\n".utf8))
        #expect(document.mediaPlaylist().segments.map(\.byteRange) == [ByteRange(length: 100, offset: 10), ByteRange(length: 50, offset: 110)])
    }

    @Test func peakFollowsTheRFCWindows() {
        // A tiny dense last segment alone does not make the peak: windows span 0.5-1.5 targets.
        let segments: [(seconds: Double, bits: Double)] = [(6, 6_000_000), (6, 6_000_000), (0.04, 400_000)]
        // The densest qualifying window is the 6 s segment plus the 0.04 s one: 6.4 Mbit over 6.04 s.
        #expect(Validator.peakBitRate(segments, target: 6) == Int((6_400_000 / 6.04).rounded(.up)))
        #expect(Validator.peakBitRate([(0.04, 400_000)], target: 6) == 10_000_000)  // nothing qualifies: segments alone
    }

    @Test func prefixedMPDsAndLongTagsAreHandled() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-regress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let prefixed = try write(#"<?xml version="1.0"?><d:MPD xmlns:d="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" mediaPresentationDuration="PT2S" minBufferTime="PT2S"><d:Period><d:AdaptationSet mimeType="audio/mp4" codecs="mp4a.40.2"><d:Representation id="a" bandwidth="1"/></d:AdaptationSet></d:Period></d:MPD>"#, "p.mpd", in: dir)
        #expect(try await Validator().validate(prefixed).findings.isEmpty)
        let attributes = (0..<20_000).map { " a\($0)=\"1\"" }.joined()
        let start = ContinuousClock.now
        let error = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array("<MPD\(attributes)/>".utf8)) }
        #expect(error?.code == .tooLarge)
        #expect(ContinuousClock.now - start < .seconds(3))  // generous for a loaded machine; a quadratic reader takes far longer
    }
}
