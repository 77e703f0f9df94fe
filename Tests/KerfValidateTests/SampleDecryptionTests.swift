import KerfCore
import KerfCrypto
import KerfManifest
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfValidate

/// The validator's Common Encryption decryption on hand-built fragments, against encryption
/// done in the test from one AES block at a time (`FragmentBuilder`).
@Suite(.tags(.unit)) struct SampleDecryptionTests {
    static let keyID: [UInt8] = Array(0x10...0x1f)
    static let otherKeyID: [UInt8] = Array(0x20...0x2f)
    static let key = try! AES128Key(hex: "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    static let otherKey = try! AES128Key(hex: "00112233445566778899aabbccddeeff")

    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    static var keys: DecryptionKeys {
        var keys = DecryptionKeys()
        try! keys.add(parsing: Hex.string(keyID) + ":" + Hex.string(key.bytes))
        try! keys.add(parsing: Hex.string(otherKeyID) + ":" + Hex.string(otherKey.bytes))
        return keys
    }

    /// Decrypts init + segment; returns the mdat payload and the outcome.
    func decrypt(_ initSegment: [UInt8], _ segment: [UInt8], keys: DecryptionKeys = keys) throws -> ([UInt8], FragmentDecryptor.Outcome) {
        var bytes = initSegment + segment
        let protection = try #require(InitProtection.parse(initSegment))
        let outcome = FragmentDecryptor(protection: protection, keys: keys).decrypt(&bytes, segmentStart: initSegment.count)
        let mdat = try #require(ISOBoxes.topLevel(bytes).last { $0.type == "mdat" })
        return (Array(bytes[mdat.body]), outcome)
    }

    @Test func theBlockPrimitiveIsAES128() throws {
        // FIPS-197 Appendix C.1.
        let key = try AES128Key(hex: "000102030405060708090a0b0c0d0e0f")
        let cipher = try FragmentBuilder.aes(key, Hex.bytes("00112233445566778899aabbccddeeff")!)
        #expect(Hex.string(cipher) == "69c4e0d86a7b0430d8cdb78070b4c55a")
    }

    @Test func cencCTRWithSubsamplesAndPartialBlocks() throws {
        let plain = [Self.random(300, seed: 1), Self.random(97, seed: 2)]
        var samples = [
            FragmentBuilder.Sample(bytes: plain[0], iv: Array(1...8), subsamples: [(5, 150), (7, 138)]),
            FragmentBuilder.Sample(bytes: plain[1], iv: Array(9...16), subsamples: [(97, 0)]),
        ]
        for index in samples.indices { try FragmentBuilder.encryptCTR(&samples[index], key: Self.key) }
        #expect(samples[0].bytes != plain[0])
        #expect(samples[0].bytes.prefix(5) == plain[0].prefix(5) && samples[1].bytes == plain[1])
        let initSegment = FragmentBuilder.initSegment(video: true, protection: .init(scheme: "cenc", keyID: Self.keyID, perSampleIVSize: 8))
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment(samples))
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(payload == plain[0] + plain[1])
        #expect(outcome.decryptedSamples == 2 && outcome.usedKeys == [Hex.string(Self.keyID)])
    }

    @Test func cencWithSixteenByteIVsAndWholeSamples() throws {
        let plain = [Self.random(64, seed: 3), Self.random(33, seed: 4)]
        var samples = plain.enumerated().map { FragmentBuilder.Sample(bytes: $0.element, iv: Self.random(16, seed: 10 + UInt64($0.offset))) }
        for index in samples.indices { try FragmentBuilder.encryptCTR(&samples[index], key: Self.key) }
        let initSegment = FragmentBuilder.initSegment(video: false, protection: .init(scheme: "cenc", keyID: Self.keyID, perSampleIVSize: 16))
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment(samples))
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(payload == plain[0] + plain[1])
    }

    @Test func cbcsPatternRestartsPerSubsampleAndLeavesPartialBlocksClear() throws {
        let constantIV = Self.random(16, seed: 5)
        let plain = [Self.random(10 + 16 * 23 + 7 + 4 + 40, seed: 6), Self.random(200, seed: 7)]
        var samples = [
            FragmentBuilder.Sample(bytes: plain[0], subsamples: [(10, 16 * 23 + 7), (4, 40)]),
            FragmentBuilder.Sample(bytes: plain[1], subsamples: [(200, 0)]),
        ]
        for index in samples.indices {
            try FragmentBuilder.encryptCBC(&samples[index], key: Self.key, iv: constantIV, crypt: 1, skip: 9)
        }
        // Blocks 0, 10 and 20 of the first range, block 0 of the second: the rest is clear.
        let changed = zip(samples[0].bytes, plain[0]).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        let encrypted = Set(Array(10..<26) + Array(170..<186) + Array(330..<346) + Array(389..<405))
        #expect(Set(changed).isSubset(of: encrypted) && changed.count > 48)
        let initSegment = FragmentBuilder.initSegment(video: true, protection: .init(scheme: "cbcs", keyID: Self.keyID, perSampleIVSize: 0,
                                                                                     constantIV: constantIV, crypt: 1, skip: 9))
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment(samples))
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(payload == plain[0] + plain[1])
        #expect(outcome.fragments.map { $0.parameters } == [.init(scheme: "cbcs", perSampleIVSize: 0, cryptBlocks: 1, skipBlocks: 9)])
    }

    @Test func cbcsWholeBlockAudioWithPerSampleIVs() throws {
        let plain = [Self.random(100, seed: 8), Self.random(10, seed: 9)]
        var samples = plain.enumerated().map { FragmentBuilder.Sample(bytes: $0.element, iv: Self.random(16, seed: 20 + UInt64($0.offset))) }
        for index in samples.indices {
            try FragmentBuilder.encryptCBC(&samples[index], key: Self.key, iv: samples[index].iv, crypt: 0, skip: 0)
        }
        #expect(samples[0].bytes.suffix(4) == plain[0].suffix(4) && samples[1].bytes == plain[1])
        let initSegment = FragmentBuilder.initSegment(video: false, protection: .init(scheme: "cbcs", keyID: Self.keyID, perSampleIVSize: 16))
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment(samples))
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(payload == plain[0] + plain[1])
    }

    @Test func aKeyIDWithoutAKeyIsReportedAndLeftAlone() throws {
        var sample = FragmentBuilder.Sample(bytes: Self.random(80, seed: 11), iv: Array(1...8))
        try FragmentBuilder.encryptCTR(&sample, key: Self.key)
        let initSegment = FragmentBuilder.initSegment(video: false, protection: .init(scheme: "cenc", keyID: Self.keyID, perSampleIVSize: 8))
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment([sample]), keys: DecryptionKeys())
        #expect(payload == sample.bytes)
        #expect(outcome.missingKeys == [Hex.string(Self.keyID)] && outcome.decryptedSamples == 0 && outcome.encryptedSamples == 1)
    }

    @Test func aSeigGroupNamesAnotherKey() throws {
        let plain = Self.random(48, seed: 12)
        var sample = FragmentBuilder.Sample(bytes: plain, iv: Array(1...8))
        try FragmentBuilder.encryptCTR(&sample, key: Self.otherKey)
        let seig: [UInt8] = [0, 0, 1, 8] + Self.otherKeyID
        let groups = FragmentBuilder.full("sbgp", Array("seig".utf8) + FragmentBuilder.u32(1) + FragmentBuilder.u32(1) + FragmentBuilder.u32(0x10001))
            + FragmentBuilder.full("sgpd", version: 1, Array("seig".utf8) + FragmentBuilder.u32(seig.count) + FragmentBuilder.u32(1) + seig)
        let initSegment = FragmentBuilder.initSegment(video: false, protection: .init(scheme: "cenc", keyID: Self.keyID, perSampleIVSize: 8))
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment([sample], extra: groups))
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(payload == plain && outcome.usedKeys == [Hex.string(Self.otherKeyID)])
    }

    @Test func inconsistentAuxiliaryInformationIsNamed() throws {
        var sample = FragmentBuilder.Sample(bytes: Self.random(64, seed: 13), iv: Array(1...8))
        try FragmentBuilder.encryptCTR(&sample, key: Self.key)
        let initSegment = FragmentBuilder.initSegment(video: false, protection: .init(scheme: "cenc", keyID: Self.keyID, perSampleIVSize: 8))
        // senc written with 16-byte IVs where tenc says 8.
        let (wrongSize, sizeOutcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment([sample], sencIVSize: 16))
        #expect(wrongSize == sample.bytes)
        #expect(sizeOutcome.problems.contains { $0.contains("per-sample IV size does not match tenc") }, "\(sizeOutcome.problems)")
        // saio pointing four bytes off.
        let (_, saioOutcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment([sample], saioShift: 4))
        #expect(saioOutcome.problems.contains { $0.contains("saio points at byte") }, "\(saioOutcome.problems)")
        // No senc at all.
        let (_, sencOutcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment([sample], senc: false))
        #expect(sencOutcome.unsupported.contains { $0.contains("without a senc box") })
        // Fragments whose IV size changes are named by the history.
        var history = FragmentHistory()
        let first = FragmentDecryptor.Outcome(fragments: [(trackID: 1, parameters: FragmentDecryptor.Parameters(scheme: "cenc", perSampleIVSize: 8, cryptBlocks: 0, skipBlocks: 0))])
        let second = FragmentDecryptor.Outcome(fragments: [(trackID: 1, parameters: FragmentDecryptor.Parameters(scheme: "cenc", perSampleIVSize: 16, cryptBlocks: 0, skipBlocks: 0))])
        #expect(history.record(first).isEmpty)
        #expect(history.record(second) == ["track 1: per-sample IVs of 16 bytes, 8 in earlier fragments"])
    }

    @Test func aClearSampleEntryIsNotDecrypted() throws {
        let plain = Self.random(64, seed: 14)
        let initSegment = FragmentBuilder.initSegment(video: true, protection: .init(scheme: "cenc", keyID: Self.keyID, perSampleIVSize: 8),
                                                      clearEntry: true)
        let (payload, outcome) = try decrypt(initSegment, FragmentBuilder.mediaSegment([.init(bytes: plain)], descriptionIndex: 2, senc: false))
        #expect(payload == plain)
        #expect(outcome.encryptedSamples == 0 && outcome.problems.isEmpty && outcome.unsupported.isEmpty)
        let protection = try #require(InitProtection.parse(initSegment))
        #expect(protection.tracks.first?.entries.map(\.format) == ["encv", "avc1"])
        #expect(protection.tracks.first?.entries.first?.originalFormat == "avc1")
    }
}

/// `pssh` boxes, `--key` values and EXT-X-KEY scopes.
@Suite(.tags(.unit)) struct ProtectionParsingTests {
    static func pssh(version: UInt8, system: String, keyIDs: [[UInt8]], data: [UInt8] = []) -> [UInt8] {
        var payload = Hex.bytes(system.filter { $0 != "-" })!
        if version == 1 { payload += FragmentBuilder.u32(keyIDs.count) + keyIDs.flatMap { $0 } }
        payload += FragmentBuilder.u32(data.count) + data
        return FragmentBuilder.full("pssh", version: version, payload)
    }

    @Test func psshBoxesAreCheckedForSizeVersionAndKeyCount() throws {
        let common = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
        let good = Self.pssh(version: 1, system: common, keyIDs: [Array(0..<16), Array(16..<32)])
        let parsed = try PSSHBox.parse(good)
        #expect(parsed.system == common && parsed.keyIDs.count == 2 && parsed.version == 1)
        #expect(PSSHBox.knownSystems[parsed.system] != nil)
        let widevine = try PSSHBox.parse(Self.pssh(version: 0, system: "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed", keyIDs: [], data: [8, 1]))
        #expect(widevine.dataSize == 2 && widevine.keyIDs.isEmpty)
        var countTooLarge = good
        countTooLarge.replaceSubrange(28..<32, with: FragmentBuilder.u32(9))
        var badSize = good
        badSize[3] &+= 1
        var version2 = good
        version2[8] = 2
        let cases: [([UInt8], String)] = [
            (countTooLarge, "KID_count 9 does not fit"), (badSize, "its size field says"), (version2, "version 2, not 0 or 1"),
            (Array(good.dropLast(1)), "its size field says"), (FragmentBuilder.box("free", [0, 0]), "not 'pssh'"),
        ]
        for (bytes, reason) in cases {
            #expect(throws: PSSHBox.Malformed.self) { try PSSHBox.parse(bytes) }
            do { _ = try PSSHBox.parse(bytes) } catch { #expect(error.reason.contains(reason), "\(error.reason)") }
        }
        #expect(throws: PSSHBox.Malformed.self) { try PSSHBox.parse(base64: "...") }
    }

    @Test func keysParseWithoutShowingThemselves() throws {
        var keys = DecryptionKeys()
        try keys.add(parsing: "00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        try keys.add(parsing: "00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        try keys.add(parsing: "ffeeddccbbaa99887766554433221100")
        #expect(keys.contentKeys.count == 1 && keys.bareKey != nil)
        #expect(!keys.description.contains("0f1e2d3c") && !keys.description.contains("ffeeddcc"))
        #expect(keys.description.contains("00112233445566778899aabbccddeeff"))
        for bad in ["00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f1", "0011:0f1e", "xyz",
                    "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1zz"] {
            var copy = keys
            do {
                try copy.add(parsing: bad)
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(!error.message.contains("0f1e2d3c") && !error.message.contains("0f1e2d3c4b5a69788796a5b4c3d2e1f0"))
            }
        }
    }

    @Test func keysApplyPerKeyFormatUntilReplacedOrCleared() throws {
        let document = try HLSDocument.parse(Array("""
            #EXTM3U
            #EXT-X-TARGETDURATION:4
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI="k1",KEYFORMAT="identity"
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k1",KEYFORMAT="com.apple.streamingkeydelivery"
            #EXTINF:4,
            a.m4s
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI="k2"
            #EXTINF:4,
            b.m4s
            #EXT-X-KEY:METHOD=NONE
            #EXTINF:4,
            c.m4s

            """.utf8))
        let keys = Validator.segmentKeys(document)
        #expect(keys.map { $0.map { $0.uri ?? "" } } == [["k1", "skd://k1"], ["skd://k1", "k2"], []])
    }

    @Test func uuidsAreEightFourFourFourTwelve() {
        #expect(DASHRules.isUUID("11112233-4455-6677-8899-aabbccddeeff"))
        #expect(!DASHRules.isUUID("ed1f2e89-8a1f-47f8-a5f5-371dd397464"))
        #expect(!DASHRules.isUUID("11112233445566778899aabbccddeeff"))
    }
}
