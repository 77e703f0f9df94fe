import Foundation
import KerfTestSupport
import Testing
@testable import KerfXML
import KerfTestTags

/// The DASH schema kept with the tests (Tests/Conformance/dash).
private func dashSchemaPath() -> String { Fixtures.dashSchema }

/// Loads the DASH schema, recording an issue (instead of passing silently) when it is missing.
private func loadDASHSchema(sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLSchema? {
    let path = dashSchemaPath()
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("DASH schema not found at \(path)", sourceLocation: sourceLocation)
        return nil
    }
    return try XMLSchema(path: path)
}

private func mpd(minBufferTime: String? = "PT2S", extraRootAttributes: String = "") -> [UInt8] {
    let minBuffer = minBufferTime.map { " minBufferTime=\"\($0)\"" } ?? ""
    let text = """
        <?xml version="1.0" encoding="UTF-8"?>
        <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" \
        type="static" mediaPresentationDuration="PT10S"\(minBuffer)\(extraRootAttributes)>
          <Period id="0">
            <AdaptationSet contentType="video" mimeType="video/mp4">
              <Representation id="v0" bandwidth="1000000" codecs="avc1.64001f" width="640" height="360"/>
            </AdaptationSet>
          </Period>
        </MPD>

        """
    return Array(text.utf8)
}

@Suite(.tags(.unit)) struct XMLDocumentSerializationTests {
    @Test func escapesAttributesAndTextKeepsOrderAndDeclaresNamespaces() throws {
        let root = XMLElement("root", [("z", "1 & 2 < 3 > \"q\""), ("a", "&amp;"), ("m", "x"), ("skipped", nil)],
                              children: [XMLElement("child", text: "a & b < c > \"d\"")])
        let bytes = try XMLDocument.serialize(root, namespaces: [("", "urn:example"), ("xlink", "http://www.w3.org/1999/xlink")])
        let expected = """
            <?xml version="1.0" encoding="UTF-8"?>
            <root xmlns="urn:example" xmlns:xlink="http://www.w3.org/1999/xlink" \
            z="1 &amp; 2 &lt; 3 &gt; &quot;q&quot;" a="&amp;amp;" m="x">
              <child>a &amp; b &lt; c &gt; "d"</child>
            </root>

            """
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test func nestedChildrenAreIndentedAndEmptyElementsSelfClose() throws {
        let root = XMLElement("a", children: [XMLElement("b", [("k", "v")], children: [XMLElement("c")])])
        let text = String(decoding: try XMLDocument.serialize(root), as: UTF8.self)
        #expect(text == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>\n  <b k=\"v\">\n    <c/>\n  </b>\n</a>\n")
    }

    @Test func elementSetReplacesAndRemovesAttributes() {
        var e = XMLElement("e", [("a", "1"), ("b", "2")])
        e.set("a", "3")
        #expect(e.attributes.map(\.name) == ["b", "a"])
        #expect(e.attribute("a") == "3")
        e.set("b", nil)
        #expect(e.attributes.map(\.name) == ["a"])
        #expect(e.attribute("b") == nil)
    }
}

@Suite(.tags(.unit)) struct XMLSchemaValidationTests {
    @Test func validMPDHasNoViolations() throws {
        guard let schema = try loadDASHSchema() else { return }
        #expect(try schema.validate(mpd()) == [])
    }

    @Test func missingMinBufferTimeIsAViolation() throws {
        guard let schema = try loadDASHSchema() else { return }
        let violations = try schema.validate(mpd(minBufferTime: nil))
        #expect(violations.count == 1)
        #expect(violations.first?.contains("minBufferTime") == true)
        #expect(violations.first?.hasPrefix("line 2: ") == true)
    }

    @Test func badAttributeValueIsAViolation() throws {
        guard let schema = try loadDASHSchema() else { return }
        let violations = try schema.validate(mpd(minBufferTime: "two seconds"))
        #expect(violations.count == 1)
        #expect(violations.first?.contains("minBufferTime") == true)
    }

    @Test func malformedBytesThrowMalformed() throws {
        guard let schema = try loadDASHSchema() else { return }
        for bytes in [Array("<MPD><Period></MPD>".utf8), [], Array("not xml at all".utf8)] {
            let error = #expect(throws: XMLError.self) { try schema.validate(bytes, name: "broken.mpd") }
            #expect(error?.code == .malformed)
            #expect(error?.file == "broken.mpd")
            #expect(error?.details.isEmpty == false)
        }
    }

    @Test func missingSchemaFileThrowsSchemaUnavailable() {
        let error = #expect(throws: XMLError.self) { try XMLSchema(path: "/nonexistent/kerf/none.xsd") }
        #expect(error?.code == .schemaUnavailable)
        #expect(error?.file == "/nonexistent/kerf/none.xsd")
    }

    @Test func entityExpansionIsNotPerformed() throws {
        guard let schema = try loadDASHSchema() else { return }
        var doctype = "<!DOCTYPE MPD [\n  <!ENTITY lol \"lol\">\n"
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            doctype += "  <!ENTITY lol\(level) \"\(String(repeating: "&\(previous);", count: 10))\">\n"
        }
        doctype += "]>\n"
        let document = "<?xml version=\"1.0\"?>\n" + doctype + """
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" \
            minBufferTime="PT2S"><Period><BaseURL>&lol9;</BaseURL></Period></MPD>
            """
        let output = Self.boundedValidation(schema, document)
        #expect(!output.contains(String(repeating: "lol", count: 100)))
        #expect(output.utf8.count < 10_000)
    }

    /// What the schema says of `document` (its violations, or the reading error), checking that
    /// it answered within 20 s (expanding the entities would take far longer; a loaded machine
    /// may be slow).
    static func boundedValidation(_ schema: XMLSchema, _ document: String) -> String {
        let clock = ContinuousClock()
        let start = clock.now
        var output = ""
        do {
            output = try schema.validate(Array(document.utf8)).joined(separator: "\n")
        } catch {
            output = ([error.message] + error.details).joined(separator: "\n")
        }
        #expect(clock.now - start < .seconds(20))
        return output
    }

    @Test func externalEntitiesAreNotLoaded() throws {
        guard let schema = try loadDASHSchema() else { return }
        let inText = """
            <?xml version="1.0"?>
            <!DOCTYPE MPD [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" \
            minBufferTime="PT2S"><Period><BaseURL>&xxe;</BaseURL></Period></MPD>
            """
        let inAttribute = """
            <?xml version="1.0"?>
            <!DOCTYPE MPD [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="&xxe;" minBufferTime="PT2S"><Period/></MPD>
            """
        for document in [inText, inAttribute] {
            let output = Self.boundedValidation(schema, document)
            #expect(!output.contains("root:"))
        }
    }

    /// An undeclared namespace prefix is reported by libxml2 in the namespace domain with the
    /// parser context as user data; it once corrupted memory. Run in child processes so a crash
    /// fails the test instead of the run.
    @Test func undeclaredNamespacePrefixIsReportedNotFatal() async {
        do {
            await #expect(processExitsWith: .success) {
                let schema = try XMLSchema(path: Fixtures.dashSchema)
                let document = """
                    <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xlink:href="x" profiles="p" minBufferTime="PT2S">\
                    <Period/></MPD>
                    """
                _ = try? schema.validate(Array(document.utf8))
            }
            await #expect(processExitsWith: .success) {
                _ = try? XMLReader.read(Array("<a><b:c/></a>".utf8))
            }
        }
        // And in this process, the message is collected.
        let error = #expect(throws: XMLError.self) { _ = try XMLReader.read(Array("<a><b:c/></a>".utf8)) }
        #expect(error?.code == .malformed)
        #expect(error?.details.contains { $0.contains("prefix b") } == true, "\(String(describing: error?.details))")
    }
}
