import KerfCore
import KerfCrypto
import KerfTestTags
import Testing
@testable import KerfPackager

/// Apple SAMPLE-AES ("MPEG-2 Stream Encryption Format for HTTP Live Streaming") of elementary
/// streams, checked against the NIST SP 800-38A CBC-AES128 vectors (F.2.1: key 2b7e1516…,
/// IV 000102…0f; the ciphertext of plaintext block 1 chained after block 0).
@Suite(.tags(.unit)) struct SampleAESCipherTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...($0 + 1)]), radix: 16)! }
    }
    static let key = try! AES128Key(bytes: hex("2b7e151628aed2a6abf7158809cf4f3c"))
    static let iv = hex("000102030405060708090a0b0c0d0e0f")
    static let plain0 = hex("6bc1bee22e409f96e93d7e117393172a"), plain1 = hex("ae2d8a571e03ac9c9eb76fac45af8e51")
    static let cipher0 = hex("7649abac8119b246cee98e9b12e9197d"), cipher1 = hex("5086cb9b507219ee95db113a917678b2")

    /// A NAL unit of `type`: header byte, `leader` (31 bytes), then `rest`.
    static func nal(type: UInt8, leader: [UInt8] = [UInt8](repeating: 0x11, count: 31), _ rest: [UInt8]) -> [UInt8] {
        [0x60 | type] + leader + rest
    }

    /// Header and 31 bytes clear, one block encrypted, 144 clear, and the next block only
    /// while more than 16 bytes remain; the CBC chain runs through the encrypted blocks.
    @Test func sliceNALUnitPattern() throws {
        let cipher = try SampleAESCipher(key: Self.key, iv: Self.iv)
        let skipped = [UInt8](repeating: 0x22, count: 144)
        let tail: [UInt8] = [0x33, 0x44, 0x55]
        let unit = Self.nal(type: 5, Self.plain0 + skipped + Self.plain1 + tail)
        #expect(unit.count == 32 + 16 + 144 + 16 + 3)
        let out = try cipher.encryptNALUnit(unit)
        #expect(out.count == unit.count, "no zero pairs, nothing to escape")
        #expect(Array(out[0..<32]) == Array(unit[0..<32]))
        #expect(Array(out[32..<48]) == Self.cipher0)
        #expect(Array(out[48..<192]) == skipped)
        #expect(Array(out[192..<208]) == Self.cipher1)
        #expect(Array(out[208...]) == tail)

        // Exactly 16 bytes left after the nine clear blocks: they stay clear.
        let even = Self.nal(type: 1, Self.plain0 + skipped + Self.plain1)
        let evenOut = try cipher.encryptNALUnit(even)
        #expect(Array(evenOut[32..<48]) == Self.cipher0)
        #expect(Array(evenOut[192...]) == Self.plain1)
        // 48 bytes: all clear; 49: the one block (17 bytes remained) is encrypted.
        let small = Self.nal(type: 5, Self.plain0)
        #expect(try cipher.encryptNALUnit(small) == small)
        let justOver = try cipher.encryptNALUnit(small + [0x77])
        #expect(Array(justOver[32..<48]) == Self.cipher0 && justOver[48] == 0x77)
    }

    /// In an access unit only slices (types 1 and 5) longer than 48 bytes change; start codes,
    /// AUD, SPS, PPS and SEI are copied.
    @Test func onlySlicesOfAnAccessUnitAreEncrypted() throws {
        let cipher = try SampleAESCipher(key: Self.key, iv: Self.iv)
        let aud: [UInt8] = [0x09, 0xf0]
        let sps: [UInt8] = [0x67] + [UInt8](repeating: 0x42, count: 60)
        let sei: [UInt8] = [0x06] + [UInt8](repeating: 0x05, count: 70)
        let idr = Self.nal(type: 5, Self.plain0 + [0x01, 0x02])
        let shortSlice = Self.nal(type: 1, [0x80])
        var access: [UInt8] = [0, 0, 0, 1] + aud
        access += [0, 0, 0, 1] + sps
        access += [0, 0, 1] + sei
        access += [0, 0, 1] + idr
        access += [0, 0, 0, 1] + shortSlice
        let out = try cipher.encryptAccessUnit(access)
        let idrStart = 4 + aud.count + 4 + sps.count + 3 + sei.count + 3
        #expect(out.count == access.count)
        #expect(Array(out[..<(idrStart + 32)]) == Array(access[..<(idrStart + 32)]))
        #expect(Array(out[(idrStart + 32)..<(idrStart + 48)]) == Self.cipher0)
        #expect(Array(out[(idrStart + 48)...]) == Array(access[(idrStart + 48)...]))
    }

    /// Emulation prevention goes over the encrypted unit: a block encrypting to 00 00 01… is
    /// written 00 00 03 01…, and the clear leader's own 00 00 03 becomes 00 00 03 03. Removing
    /// it once and decrypting gives the unit back, emulation prevention bytes and all.
    @Test func emulationPreventionAfterEncryption() throws {
        // The plaintext block that encrypts to 00 00 01 05 …: one CBC decryption with the IV.
        let wanted: [UInt8] = [0, 0, 1, 5] + [UInt8](repeating: 0xab, count: 12)
        var plaintext = wanted
        try SampleCipher(key: Self.key, mode: .cbc, encrypting: false).applyCBC(&plaintext, ranges: [0..<16], iv: Self.iv, crypt: 0, skip: 0)
        let leader: [UInt8] = [0x9a, 0x00, 0x00, 0x03, 0x01] + [UInt8](repeating: 0x11, count: 26)
        let unit = Self.nal(type: 5, leader: leader, plaintext + [0x99, 0x88, 0x77, 0x66])
        let out = try SampleAESCipher(key: Self.key, iv: Self.iv).encryptNALUnit(unit)
        #expect(out.count == unit.count + 2)
        #expect(Array(out[0..<8]) == [0x65, 0x9a, 0x00, 0x00, 0x03, 0x03, 0x01, 0x11])
        #expect(Array(out[33..<38]) == [0x00, 0x00, 0x03, 0x01, 0x05])
        // A player's side: drop one level of 03s (its own loop here), decrypt the block.
        var unescaped: [UInt8] = [], zeros = 0
        for byte in out {
            if zeros >= 2 && byte == 3 { zeros = 0; continue }
            unescaped.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        #expect(Array(unescaped[32..<48]) == wanted)
        try SampleCipher(key: Self.key, mode: .cbc, encrypting: false).applyCBC(&unescaped, ranges: [32..<48], iv: Self.iv, crypt: 0, skip: 0)
        #expect(unescaped == unit)
    }

    @Test func escapingRoundTrips() {
        let cases: [[UInt8]] = [[0, 0, 0], [0, 0, 1, 0, 0, 2, 0, 0, 3], [5, 0, 0], [0, 0, 4, 0, 0], [1, 2, 3]]
        for nal in cases {
            let escaped = AnnexB.addingEmulationPrevention(nal)
            #expect(AnnexB.removingEmulationPrevention(escaped) == nal, "\(nal)")
            for i in 0..<(escaped.count - 2) where escaped[i] == 0 && escaped[i + 1] == 0 {
                #expect(escaped[i + 2] == 3 || escaped[i + 2] > 3, "\(escaped)")
            }
        }
        #expect(AnnexB.addingEmulationPrevention([0, 0, 1]) == [0, 0, 3, 1])
        #expect(AnnexB.addingEmulationPrevention([7, 0, 0]) == [7, 0, 0, 3])
    }

    /// An ADTS frame: header (7, or 9 with CRC) and 16 bytes clear, whole blocks encrypted,
    /// the rest clear; each frame starts again from the IV; frames too short stay clear.
    @Test func adtsFrameRule() throws {
        func frame(crc: Bool, _ payload: [UInt8]) -> [UInt8] {
            let length = (crc ? 9 : 7) + payload.count
            var header: [UInt8] = [0xff, crc ? 0xf0 : 0xf1, 0x50, 0x80 | UInt8(length >> 11), UInt8(length >> 3 & 0xff), UInt8(length & 7) << 5 | 0x1f, 0xfc]
            if crc { header += [0xde, 0xad] }
            return header + payload
        }
        let lead = [UInt8](repeating: 0x5a, count: 16), rest: [UInt8] = [1, 2, 3, 4, 5]
        let a = frame(crc: false, lead + Self.plain0 + Self.plain1 + rest)
        let b = frame(crc: true, lead + Self.plain0 + rest)
        let short = frame(crc: false, lead + [UInt8](repeating: 0x66, count: 15))
        // A frame shorter than its header and clear leader (digital silence) stays clear.
        let tiny = frame(crc: false, [0x21, 0x10, 0x04])
        var bytes = a + b + short + tiny
        try SampleAESCipher(key: Self.key, iv: Self.iv).encryptADTSFrames(&bytes)
        #expect(Array(bytes[0..<23]) == Array(a[0..<23]))
        #expect(Array(bytes[23..<55]) == Self.cipher0 + Self.cipher1)
        #expect(Array(bytes[55..<60]) == rest)
        let bAt = a.count
        #expect(Array(bytes[bAt..<(bAt + 25)]) == Array(b[0..<25]))
        #expect(Array(bytes[(bAt + 25)..<(bAt + 41)]) == Self.cipher0, "the chain restarts at each frame")
        #expect(Array(bytes[(bAt + 41)..<(bAt + b.count)]) == rest)
        #expect(Array(bytes[(bAt + b.count)...]) == short + tiny)
        #expect(SampleAESCipher.audioSpecificConfig(adts: a, at: 0) == [0x12, 0x10], "AAC LC, 44.1 kHz, stereo")

        var broken: [UInt8] = [0xff, 0xf1, 0x50, 0x80, 0xff, 0xff, 0xfc]
        #expect(throws: PackagerError.self) { try SampleAESCipher(key: Self.key, iv: Self.iv).encryptADTSFrames(&broken) }
    }
}
