import Foundation
import KerfFuzzing
import KerfManifest
import KerfTestSupport
import KerfTestTags
import Testing

/// The defects the fuzzers found, each with the input that found it (kept in the corpus, so
/// `FuzzCorpusTests` replays it too) and the rule it broke, stated directly.
@Suite(.tags(.unit)) struct FuzzRegressionTests {
    static func corpusFile(_ target: FuzzTarget, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: FuzzCorpusTests.corpus.appendingPathComponent("\(target.rawValue)/\(name)")))
    }

    /// `hls`: a line whose text ends with a CR (`#EXT-X-FOO\r\r\n`: the CRLF ends the line, the
    /// CR before it is the line's) lost that CR in each serialise-parse round trip.
    @Test func playlistLineEndingWithACarriageReturnRoundTrips() throws {
        let text = "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\r\r\r\n#EXTINF:1,\r\r\nseg_1.m4s\r\r\n"
        let document = try HLSDocument.parse(Array(text.utf8))
        #expect(document.lines[1].content == .tag(name: "EXT-X-INDEPENDENT-SEGMENTS\r\r", value: nil, attributes: nil))
        let again = try HLSDocument.parse(Array(document.serialize().utf8))
        #expect(again.lines.map(\.content) == document.lines.map(\.content))
        #expect(FuzzTarget.hls.run(try Self.corpusFile(.hls, "regression-cr-before-crlf")).isEmpty)
    }
}
