import KerfCrypto
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfValidate

/// Apple SAMPLE-AES (MPEG-TS) decryption against encryption written here from the format's
/// description, one AES block at a time.
@Suite(.tags(.unit)) struct SampleAESTests {
    static let key = try! AES128Key(hex: "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    static let iv: [UInt8] = Array(0x30...0x3f)

    /// Emulation prevention as H.264 §7.4.1 describes it: 0x03 wherever 0x000000–0x000003
    /// would appear.
    static func escape(_ rbsp: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in rbsp {
            if out.suffix(2) == [0, 0], byte <= 3 { out.append(3) }
            out.append(byte)
        }
        return out
    }

    /// A NAL unit's bytes (without emulation prevention) encrypted: 32 clear, then while more
    /// than 16 remain one block through AES-CBC, then up to 144 clear.
    static func encryptNAL(_ nal: [UInt8]) throws -> [UInt8] {
        var data = nal
        var offset = 32, previous = iv
        var remaining = data.count - 32
        while remaining > 0 {
            if remaining > 16 {
                let mixed = zip(data[offset..<(offset + 16)], previous).map { $0 ^ $1 }
                previous = try FragmentBuilder.aes(key, mixed)
                data.replaceSubrange(offset..<(offset + 16), with: previous)
                offset += 16
                remaining -= 16
            }
            let skip = min(144, remaining)
            offset += skip
            remaining -= skip
        }
        return data
    }

    static func slice(_ length: Int, seed: UInt64) -> [UInt8] {
        var rbsp = SampleDecryptionTests.random(length, seed: seed)
        rbsp[0] = 0x65
        // Runs of zeros make emulation prevention bytes on both sides of the encryption.
        for start in stride(from: 40, to: length - 8, by: 97) { rbsp.replaceSubrange(start..<(start + 3), with: [0, 0, UInt8(start % 4)]) }
        rbsp[length - 1] = 0x80
        return rbsp
    }

    @Test(arguments: [49, 64, 192, 208, 500, 1000]) func h264SlicesDecrypt(_ length: Int) throws {
        let rbsp = Self.slice(length, seed: UInt64(length))
        let original = Self.escape(rbsp)
        let encrypted = Self.escape(try Self.encryptNAL(rbsp))
        #expect(encrypted != original)
        let sps: [UInt8] = [0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9]
        let accessUnit = [0, 0, 0, 1] + sps + [0, 0, 1] + encrypted
        let cipher = try SampleCipher(key: Self.key, mode: .cbc, encrypting: false)
        let decrypted = try SampleAESDecryption.h264(accessUnit, cipher: cipher, iv: Self.iv)
        #expect(decrypted == [0, 0, 0, 1] + sps + [0, 0, 1] + original)
    }

    @Test func shortAndNonSliceUnitsStayClear() throws {
        let slice48: [UInt8] = [0x41] + SampleDecryptionTests.random(47, seed: 1).map { $0 | 1 }  // type 1, 48 bytes
        let sei: [UInt8] = [0x06] + SampleDecryptionTests.random(100, seed: 2).map { $0 | 1 }
        let accessUnit = [0, 0, 1] + slice48 + [0, 0, 0, 1] + sei
        let cipher = try SampleCipher(key: Self.key, mode: .cbc, encrypting: false)
        #expect(try SampleAESDecryption.h264(accessUnit, cipher: cipher, iv: Self.iv) == accessUnit)
        #expect(SampleAESDecryption.nalUnits(accessUnit).map(\.count) == [48, 101])
    }

    @Test func adtsFramesDecryptAfterHeaderAndSixteenBytes() throws {
        func frame(_ payload: [UInt8], crc: Bool) -> [UInt8] {
            let length = payload.count + (crc ? 9 : 7)
            var header: [UInt8] = [0xff, crc ? 0xf0 : 0xf1, 0x50, 0x80 | UInt8(length >> 11), UInt8(length >> 3 & 0xff), UInt8(length & 7) << 5 | 0x1f, 0xfc]
            if crc { header += [0x12, 0x34] }
            return header + payload
        }
        let payloads = [SampleDecryptionTests.random(100, seed: 3), SampleDecryptionTests.random(30, seed: 4), SampleDecryptionTests.random(64, seed: 5)]
        var clear: [UInt8] = [], encrypted: [UInt8] = []
        for (index, payload) in payloads.enumerated() {
            var protected = payload
            let blocks = (payload.count - 16) / 16
            var previous = Self.iv
            for block in 0..<max(0, blocks) {
                let start = 16 + 16 * block
                let mixed = zip(protected[start..<(start + 16)], previous).map { $0 ^ $1 }
                previous = try FragmentBuilder.aes(Self.key, mixed)
                protected.replaceSubrange(start..<(start + 16), with: previous)
            }
            clear += frame(payload, crc: index == 2)
            encrypted += frame(protected, crc: index == 2)
        }
        #expect(encrypted != clear)
        let cipher = try SampleCipher(key: Self.key, mode: .cbc, encrypting: false)
        #expect(try SampleAESDecryption.adts(encrypted, cipher: cipher, iv: Self.iv) == clear)
    }
}
