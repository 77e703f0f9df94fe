import Foundation
import KerfTestSupport
import Testing
@testable import KerfXML
import KerfTestTags

@Suite(.tags(.unit)) struct XMLReaderTests {
    static let conformance = Fixtures.conformance
    static var examples: [String] {
        let folder = conformance.appendingPathComponent("examples").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".mpd") }.sorted()
    }

    /// Every example MPD of the standard reads into a tree, writes back, still validates and reads
    /// back to the same tree.
    @Test func conformanceExamplesRoundTrip() throws {
        let names = Self.examples
        guard !names.isEmpty else {
            Issue.record("no example MPDs under \(Self.conformance.path)")
            return
        }
        let schema = try XMLSchema(path: Self.conformance.appendingPathComponent("DASH-MPD.xsd").path)
        for name in names {
            let original = try [UInt8](Data(contentsOf: Self.conformance.appendingPathComponent("examples/\(name)")))
            let tree = try XMLReader.read(original, name: name)
            #expect(tree.name == "MPD", "\(name)")
            let written = try XMLDocument.serialize(tree)
            #expect(try schema.validate(written, name: name) == [], "\(name) no longer validates after a round trip")
            #expect(try XMLReader.read(written, name: name) == tree, "\(name) changed in a round trip")
        }
        #expect(names.count >= 30)
    }

    @Test func namespacesAndTextAreKept() throws {
        let text = """
            <?xml version="1.0"?>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" minBufferTime="PT2S">
              <!-- a comment -->
              <BaseURL> http://cdn.example/a/ </BaseURL>
              <ContentProtection cenc:default_KID="10000000-1000-1000-1000-100000000001" value="cenc"/>
            </MPD>
            """
        let tree = try XMLReader.read(Array(text.utf8))
        #expect(tree.attribute("xmlns") == "urn:mpeg:dash:schema:mpd:2011")
        #expect(tree.attribute("xmlns:cenc") == "urn:mpeg:cenc:2013")
        #expect(tree.children.map(\.name) == ["BaseURL", "ContentProtection"])
        #expect(tree.children[0].text == "http://cdn.example/a/")
        #expect(tree.children[1].attribute("cenc:default_KID") == "10000000-1000-1000-1000-100000000001")
    }

    @Test func entityTricksAreRefused() throws {
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>
            <MPD>&g;</MPD>
            """
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE MPD [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <MPD>&secret;</MPD>
            """
        for document in [laughs, external] {
            let start = ContinuousClock.now
            let error = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array(document.utf8)) }
            #expect(error?.code == .malformed)
            #expect(error?.details.joined().contains("root:") != true)
            #expect(ContinuousClock.now - start < .seconds(3))  // generous for a loaded machine; expanding the entities takes far longer
        }
    }

    @Test func malformedAndOversizedInputIsReported() throws {
        let error = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array("<MPD><Period></MPD>".utf8), name: "bad.mpd") }
        #expect(error?.code == .malformed)
        #expect(error?.file == "bad.mpd")
        #expect(error?.details.first?.hasPrefix("line 1:") == true)
        let big = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array(repeating: 0x20, count: 100), maxBytes: 10) }
        #expect(big?.code == .tooLarge)
        // Nesting deeper than libxml2's limit (256 without XML_PARSE_HUGE) is refused, not recursed into.
        let deep = String(repeating: "<a>", count: 5000) + String(repeating: "</a>", count: 5000)
        #expect(throws: XMLError.self) { _ = try XMLReader.read(Array(deep.utf8)) }
    }

    /// The tag-length bound counts tags, not comments or CDATA: an MPD with a long comment (some
    /// packagers write their whole configuration there) is read; one tag that long is refused.
    @Test func longCommentsAreNotLongTags() throws {
        let filler = String(repeating: "x", count: XMLReader.maxTagBytes + 10)
        let commented = try XMLReader.read(Array("<MPD><!-- \(filler) --><Period id=\"1\"/><![CDATA[\(filler)]]></MPD>".utf8))
        #expect(commented.name == "MPD" && commented.children.count == 1)
        let long = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array("<MPD a=\"\(filler)\"/>".utf8)) }
        #expect(long?.code == .tooLarge)
        // A "<!--" inside a processing instruction does not hide the long tag after it.
        let attributes = (0..<3000).map { " a\($0)=\"0123456789012345678901\"" }.joined()
        let hidden = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array("<?x <!-- ?><MPD\(attributes)/><!-- -->".utf8)) }
        #expect(hidden?.code == .tooLarge)
        // An unterminated comment is libxml2's to report.
        #expect(throws: XMLError.self) { _ = try XMLReader.read(Array("<MPD><!-- \(filler)".utf8)) }
    }
}
