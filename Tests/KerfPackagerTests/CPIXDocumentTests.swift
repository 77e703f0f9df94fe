import KerfCore
import KerfTestTags
import Testing
@testable import KerfPackager

/// CPIX 2.3 documents read into keys, per-key DRM signalling and usage rules.
@Suite(.tags(.unit)) struct CPIXDocumentTests {
    static let sd = "aaaaaaaa-0000-0000-0000-000000000001", hd = "aaaaaaaa-0000-0000-0000-000000000002"
    static let audio = "aaaaaaaa-0000-0000-0000-000000000003"

    static func document(rules: String, keys: [String] = [sd, hd, audio], systems: String = "") -> [UInt8] {
        let list = keys.enumerated().map { index, kid in
            "<ContentKey kid=\"\(kid)\" explicitIV=\"\(Base64.encode([UInt8](repeating: UInt8(index + 1), count: 16)))\"><Data><pskc:Secret>"
                + "<pskc:PlainValue>\(Base64.encode([UInt8](repeating: UInt8(0x10 + index), count: 16)))</pskc:PlainValue></pskc:Secret></Data></ContentKey>"
        }.joined()
        return Array("""
        <CPIX xmlns="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
        <ContentKeyList>\(list)</ContentKeyList><DRMSystemList>\(systems)</DRMSystemList>
        <ContentKeyUsageRuleList>\(rules)</ContentKeyUsageRuleList></CPIX>
        """.utf8)
    }

    static func video(_ width: Int, _ height: Int) -> TrackInfo {
        var track = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 12_800))
        track.width = width
        track.height = height
        return track
    }

    static let stereo: TrackInfo = {
        var track = TrackInfo(index: 1, mediaType: .audio, codec: "aac", timeBase: Rational(1, 48_000))
        track.channels = 2
        return track
    }()

    @Test func videoFiltersSplitByPixelsAndAudioByChannels() throws {
        let cpix = try CPIXDocument(bytes: Self.document(rules: """
            <ContentKeyUsageRule kid="\(Self.sd)"><VideoFilter maxPixels="409920"/></ContentKeyUsageRule>
            <ContentKeyUsageRule kid="\(Self.hd)"><VideoFilter minPixels="409921"/></ContentKeyUsageRule>
            <ContentKeyUsageRule kid="\(Self.audio)"><AudioFilter maxChannels="2"/></ContentKeyUsageRule>
            """), source: "t.xml")
        #expect(try cpix.key(for: .video, track: Self.video(640, 360), name: "v").keyIDUUID == Self.sd)
        #expect(try cpix.key(for: .video, track: Self.video(1280, 720), name: "v").keyIDUUID == Self.hd)
        #expect(try cpix.key(for: .audio, track: Self.stereo, name: "a").keyIDUUID == Self.audio)
        #expect(cpix.keys[1].explicitIV == [UInt8](repeating: 2, count: 16))
        #expect(cpix.keys[2].key.key.bytes == [UInt8](repeating: 0x12, count: 16))
    }

    @Test func rulesWithoutFiltersGoByIntendedTrackType() throws {
        let cpix = try CPIXDocument(bytes: Self.document(rules: """
            <ContentKeyUsageRule kid="\(Self.hd)" intendedTrackType="VIDEO"/>
            <ContentKeyUsageRule kid="\(Self.audio)" intendedTrackType="AUDIO"/>
            """, keys: [Self.hd, Self.audio]), source: "t.xml")
        #expect(try cpix.key(for: .video, track: Self.video(640, 360), name: "v").keyIDUUID == Self.hd)
        #expect(try cpix.key(for: .audio, track: Self.stereo, name: "a").keyIDUUID == Self.audio)
    }

    @Test func ambiguousOrMissingRulesAreRefused() throws {
        let overlapping = try CPIXDocument(bytes: Self.document(rules: """
            <ContentKeyUsageRule kid="\(Self.sd)"><VideoFilter/></ContentKeyUsageRule>
            <ContentKeyUsageRule kid="\(Self.hd)"><VideoFilter minPixels="100"/></ContentKeyUsageRule>
            """), source: "t.xml")
        #expect(throws: PackagerError.self) { try overlapping.key(for: .video, track: Self.video(640, 360), name: "v") }
        #expect(throws: PackagerError.self) { try overlapping.key(for: .audio, track: Self.stereo, name: "a") }
        let noRules = try CPIXDocument(bytes: Self.document(rules: ""), source: "t.xml")
        #expect(throws: PackagerError.self) { try noRules.key(for: .video, track: Self.video(640, 360), name: "v") }
        #expect(throws: PackagerError.self) {
            try CPIXDocument(bytes: Self.document(rules: "<ContentKeyUsageRule kid=\"bbbbbbbb-0000-0000-0000-000000000009\"/>"), source: "t.xml")
        }
        #expect(throws: PackagerError.self) { try CPIXDocument(bytes: Array("<MPD/>".utf8), source: "t.xml") }
    }

    @Test func drmSystemsCarryPSSHProAndHLSSignalling() throws {
        let pssh = ProtectionSystemHeader.box(systemID: ContentProtection.System.playReadyID, keyIDs: [], data: [1, 2, 3])
        let data = "<cenc:pssh>\(Base64.encode(pssh))</cenc:pssh><mspr:pro>\(Base64.encode([1, 2, 3]))</mspr:pro><dashif:Laurl>https://lic.example/pr</dashif:Laurl>"
        let line = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\""
        let systems = """
            <DRMSystem kid="\(Self.sd)" systemId="\(ContentProtection.System.playReadyID)">
              <ContentProtectionData>\(Base64.encode(Array(data.utf8)))</ContentProtectionData></DRMSystem>
            <DRMSystem kid="\(Self.sd)" systemId="\(ContentProtection.System.fairPlayID)">
              <HLSSignalingData playlist="master">\(Base64.encode(Array("#EXT-X-SESSION-KEY:METHOD=NONE".utf8)))</HLSSignalingData>
              <HLSSignalingData playlist="media">\(Base64.encode(Array(line.utf8)))</HLSSignalingData></DRMSystem>
            """
        let cpix = try CPIXDocument(bytes: Self.document(rules: "", keys: [Self.sd], systems: systems), source: "t.xml")
        let signalling = cpix.signalling(for: try #require(CPIXDocument.uuid(Self.sd)))
        #expect(signalling.count == 2)
        #expect(signalling[0].pssh == pssh && signalling[0].playReadyObject == [1, 2, 3] && signalling[0].licenseURL == "https://lic.example/pr")
        #expect(signalling[0].value == "MSPR 2.0")
        #expect(signalling[1].hls == ContentProtection.HLSKeyFormat(keyFormat: "com.apple.streamingkeydelivery", keyFormatVersions: "1", uri: "skd://x"))
        let unsupported = "<DRMSystem kid=\"\(Self.sd)\" systemId=\"\(ContentProtection.System.widevineID)\"><ContentProtectionData>"
            + Base64.encode(Array("<widevine:license xmlns:widevine=\"urn:w\">x</widevine:license>".utf8)) + "</ContentProtectionData></DRMSystem>"
        #expect(throws: PackagerError.self) { try CPIXDocument(bytes: Self.document(rules: "", keys: [Self.sd], systems: unsupported), source: "t.xml") }
    }

    @Test func explicitIVsMustSuitTheScheme() throws {
        // The document gives 16-byte IVs; an 8-byte one is refused for cbcs, accepted for cenc.
        let eight = Array(String(decoding: Self.document(rules: "", keys: [Self.sd]), as: UTF8.self)
            .replacing(Base64.encode([UInt8](repeating: 1, count: 16)), with: Base64.encode([UInt8](repeating: 1, count: 8))).utf8)
        let cpix = try CPIXDocument(bytes: eight, source: "t.xml")
        #expect(cpix.keys[0].explicitIV?.count == 8)
        var cbcs = CommonEncryption(scheme: .cbcs), cenc = CommonEncryption(scheme: .cenc)
        cbcs.cpix = cpix
        cenc.cpix = cpix
        #expect(throws: PackagerError.self) { try cbcs.validate() }
        try cenc.validate()
    }

    @Test func base64RoundTripsAndRejectsGarbage() {
        for count in 0..<20 {
            let bytes = (0..<count).map { UInt8(($0 * 37 + 11) & 0xff) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("AQID\n") == [1, 2, 3])
        #expect(Base64.decode("A") == nil && Base64.decode("AQ=D") == nil && Base64.decode("A*") == nil)
    }
}
