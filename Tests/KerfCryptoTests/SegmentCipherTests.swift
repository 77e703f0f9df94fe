import Testing
@testable import KerfCrypto
import KerfTestTags

@Suite(.tags(.unit)) struct SegmentCipherTests {
    let key = try! AES128Key(hex: "000102030405060708090a0b0c0d0e0f")

    /// Expected bytes from `printf 'Kerf segment!' | openssl enc -aes-128-cbc -K 0001…0e0f -iv 0…01`.
    @Test func matchesOpenSSLCommandLine() throws {
        let iv = try AES128Key(hex: "0x00000000000000000000000000000001")
        let ciphertext = try SegmentCipher(key: key).encrypt(Array("Kerf segment!".utf8), iv: iv)
        #expect(ciphertext == [0x17,0xfc,0xbf,0x0a,0xba,0x07,0xe2,0xb8,0x33,0xee,0xa6,0x56,0x51,0xff,0xd2,0x69])
        #expect(try SegmentCipher(key: key).decrypt(ciphertext, iv: iv) == Array("Kerf segment!".utf8))
    }

    @Test func pkcs7PadsToTheNextBlock() throws {
        let iv = AES128Key.sequenceIV(0)
        let cipher = SegmentCipher(key: key)
        #expect(try cipher.encrypt([UInt8](repeating: 7, count: 16), iv: iv).count == 32)
        #expect(try cipher.encrypt([], iv: iv).count == 16)
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        #expect(try cipher.decrypt(cipher.encrypt(big, iv: iv), iv: iv) == big)
    }

    @Test func wrongKeyFailsOrGarbles() throws {
        let iv = AES128Key.sequenceIV(3)
        let plain = Array("a segment of media data, long enough for three blocks".utf8)
        let ciphertext = try SegmentCipher(key: key).encrypt(plain, iv: iv)
        let other = SegmentCipher(key: try AES128Key(hex: "ffffffffffffffffffffffffffffffff"))
        // A wrong key almost always breaks the padding; if it does not, the bytes differ.
        if let decrypted = try? other.decrypt(ciphertext, iv: iv) { #expect(decrypted != plain) }
    }

    @Test func keysAndIVsParse() throws {
        #expect(AES128Key.sequenceIV(5).hexString == "0x00000000000000000000000000000005")
        #expect(AES128Key.sequenceIV(0x0102).bytes.suffix(2) == [0x01, 0x02])
        #expect(try AES128Key(hex: " 0X000102030405060708090A0B0C0D0E0F\n").bytes == Array(0...15))
        for bad in ["00", "zz0102030405060708090a0b0c0d0e0f", String(repeating: "0", count: 34)] {
            let error = #expect(throws: CryptoError.self) { _ = try AES128Key(hex: bad) }
            #expect(error?.code == .invalidKey)
        }
        #expect(throws: CryptoError.self) { _ = try AES128Key(bytes: [1, 2, 3]) }
    }
}
