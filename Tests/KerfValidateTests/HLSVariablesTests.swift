import KerfManifest
import Testing
@testable import KerfValidate
import KerfTestTags

/// Variable substitution (RFC 8216bis §4.3) on parsed playlists, before any other rule.
@Suite(.tags(.unit)) struct HLSVariablesTests {
    func parse(_ text: String) throws -> HLSDocument { try HLSDocument.parse(Array(text.utf8)) }

    @Test func definitionsReachURIsQuotedStringsAndHexadecimalSequences() throws {
        var document = try parse("""
            #EXTM3U
            #EXT-X-VERSION:8
            #EXT-X-TARGETDURATION:6
            #EXT-X-DEFINE:NAME="host",VALUE="https://cdn.example"
            #EXT-X-DEFINE:NAME="iv",VALUE="0x000102030405060708090a0b0c0d0e0f"
            #EXT-X-DEFINE:QUERYPARAM="token"
            #EXT-X-KEY:METHOD=AES-128,URI="{$host}/key?t={$token}",IV={$iv}
            #EXTINF:6,
            {$host}/a/{$token}/1.ts
            #EXT-X-ENDLIST
            """)
        let variables = HLSVariables.substitute(&document, file: "p.m3u8", imported: nil, query: "a=1&token=x%2Fy")
        #expect(variables.findings.isEmpty)
        let key = try #require(document.tags("EXT-X-KEY").first?.attributes)
        #expect(key[attribute: "URI"]?.unquoted == "https://cdn.example/key?t=x/y")
        #expect(key[attribute: "IV"]?.value == "0x000102030405060708090a0b0c0d0e0f")
        #expect(document.lines.contains { $0.content == .uri("https://cdn.example/a/x/y/1.ts") })
        // The rules then see the substituted values: the IV is a valid hexadecimal-sequence.
        #expect(HLSRules.media(document, file: "p.m3u8").isEmpty)
    }

    @Test func referencesMustFollowTheirDefinition() throws {
        var document = try parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n{$late}/1.ts\n#EXT-X-DEFINE:NAME=\"late\",VALUE=\"x\"\n")
        let variables = HLSVariables.substitute(&document, file: "p.m3u8", imported: nil, query: nil)
        #expect(variables.findings.map(\.rule) == ["hls.define-undefined"])
        #expect(variables.findings.first?.line == 4)
    }

    @Test func importTakesTheMultivariantValueOrFails() throws {
        var document = try parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DEFINE:IMPORT=\"cdn\"\n#EXT-X-DEFINE:IMPORT=\"other\"\n#EXTINF:6,\n{$cdn}/1.ts\n")
        let variables = HLSVariables.substitute(&document, file: "p.m3u8", imported: ["cdn": "https://a.example"], query: nil)
        #expect(variables.findings.map(\.rule) == ["hls.define-import-missing"])
        #expect(document.lines.contains { $0.content == .uri("https://a.example/1.ts") })
        var alone = try parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DEFINE:IMPORT=\"cdn\"\n#EXTINF:6,\n{$cdn}/1.ts\n")
        #expect(HLSVariables.substitute(&alone, file: "p.m3u8", imported: nil, query: nil).findings.map(\.rule) == ["hls.define-unresolved"])
        #expect(HLSVariables.substitute(&alone, file: "p.m3u8", imported: nil, query: nil).findings.allSatisfy { $0.severity == .info })
    }

    @Test func playlistsWithoutVariablesAreLeftAlone() throws {
        var document = try parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nhttps://a.example/{x}/1.ts\n")
        let before = document
        #expect(HLSVariables.substitute(&document, file: "p.m3u8", imported: nil, query: nil).findings.isEmpty)
        #expect(document == before)
    }
}
