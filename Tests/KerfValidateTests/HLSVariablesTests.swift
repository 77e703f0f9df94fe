import KerfManifest
import KerfTestSupport
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

/// The playlist rules, variables and tag table first, over mutated playlists that use them all.
@Suite(.tags(.unit)) struct HLSRulesMutationTests {
    static let multivariant = """
        #EXTM3U
        #EXT-X-VERSION:8
        #EXT-X-DEFINE:NAME="cdn",VALUE="https://cdn.example"
        #EXT-X-DEFINE:QUERYPARAM="token"
        #EXT-X-START:TIME-OFFSET=-12.5,PRECISE=YES
        #EXT-X-SESSION-DATA:DATA-ID="com.example.title",VALUE="x",LANGUAGE="en"
        #EXT-X-CONTENT-STEERING:SERVER-URI="{$cdn}/s.json",PATHWAY-ID="A"
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,CHANNELS="2/JOC",STABLE-RENDITION-ID="en",URI="{$cdn}/a.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25,AUDIO="a",VIDEO-RANGE=PQ,PATHWAY-ID="A"
        {$cdn}/v.m3u8?{$token}
        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="{$cdn}/i.m3u8"
        """
    static let media = """
        #EXTM3U
        #EXT-X-VERSION:8
        #EXT-X-TARGETDURATION:6
        #EXT-X-DEFINE:IMPORT="cdn"
        #EXT-X-DEFINE:NAME="iv",VALUE="0x000102030405060708090a0b0c0d0e0f"
        #EXT-X-KEY:METHOD=AES-256,URI="{$cdn}/k",IV={$iv}
        #EXT-X-BYTERANGE:100@0
        #EXT-X-BITRATE:900
        #EXTINF:6,
        {$cdn}/1.ts
        #EXT-X-GAP
        #EXTINF:6,
        {$cdn}/2.ts
        #EXT-X-ENDLIST
        """

    @Test func mutatedPlaylistsNeverCrashOrHang() throws {
        var generator = SplitMix(seed: 0x4b657267)
        let seeds = [Array(Self.media.utf8), Array(Self.multivariant.utf8)]
        let junk: [[UInt8]] = [Array("99999999999999999999999".utf8), Array("\"".utf8), Array("{$".utf8), Array("}".utf8),
                               Array("#EXT-X-DEFINE:".utf8), Array("=".utf8), Array(",".utf8), [0xc3], Array("\n".utf8)]
        var slowest: Duration = .zero
        for _ in 0..<1_000 {
            let seed = seeds[Int(generator.next() % 2)]
            let bytes = generator.mutate(seed, junk: junk)
            let start = ContinuousClock.now
            var document = try HLSDocument.parse(bytes)
            let variables = HLSVariables.substitute(&document, file: "m.m3u8", imported: ["cdn": "x"], query: "token=%zz&token")
            let findings = variables.findings + HLSRules.common(document, file: "m.m3u8")
                + (document.isMultivariant ? HLSRules.multivariant(document, file: "m.m3u8") : HLSRules.media(document, file: "m.m3u8"))
            #expect(findings.allSatisfy { RuleCatalogue.rule($0.rule)?.severity == $0.severity })
            slowest = max(slowest, ContinuousClock.now - start)
        }
        #expect(slowest < .seconds(5))
    }
}
