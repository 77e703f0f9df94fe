import Testing
@testable import KerfCrypto
import KerfTestTags

private func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

@Suite(.tags(.unit)) struct AES128KeyTests {
    @Test func parsesHexWithAndWithoutPrefix() throws {
        let expected: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]
        #expect(try AES128Key(hex: "000102030405060708090a0b0c0d0e0f").bytes == expected)
        #expect(try AES128Key(hex: "0x000102030405060708090A0B0C0D0E0F").bytes == expected)
        #expect(try AES128Key(hex: "0X000102030405060708090a0b0c0d0e0f").bytes == expected)
        #expect(try AES128Key(hex: "  000102030405060708090a0b0c0d0e0f\n").bytes == expected)
    }

    @Test(arguments: [
        "",
        "0x",
        "000102030405060708090a0b0c0d0e",          // 15 bytes
        "000102030405060708090a0b0c0d0e0f10",      // 17 bytes
        "000102030405060708090a0b0c0d0e0",         // 31 digits
    ])
    func wrongLengthIsInvalidKey(_ text: String) {
        let error = #expect(throws: CryptoError.self) { try AES128Key(hex: text) }
        #expect(error?.code == .invalidKey)
        #expect(error?.isInputError == true)
    }

    @Test(arguments: [
        "g00102030405060708090a0b0c0d0e0f",
        "000102030405060708090a0b0c0d0ezz",
        "00010203-4050607-8090a0b0c0d0e0f",
        "0x0x0102030405060708090a0b0c0d0e0f",
    ])
    func nonHexIsInvalidKey(_ text: String) {
        let error = #expect(throws: CryptoError.self) { try AES128Key(hex: text) }
        #expect(error?.code == .invalidKey)
    }

    /// UInt8(_:radix:) accepts a leading + (and -0): such digit pairs must not pass as hex.
    @Test func signCharactersAreNotHex() {
        for text in ["+0+1+2+3+4+5+6+7+8+9+a+b+c+d+e+f", "-00102030405060708090a0b0c0d0e0f"] {
            let error = #expect(throws: CryptoError.self) { try AES128Key(hex: text) }
            #expect(error?.code == .invalidKey)
        }
    }

    @Test func rawBytesMustBeSixteen() throws {
        #expect(try AES128Key(bytes: [UInt8](repeating: 7, count: 16)).bytes.count == 16)
        let error = #expect(throws: CryptoError.self) { try AES128Key(bytes: [1, 2, 3]) }
        #expect(error?.code == .invalidKey)
    }

    @Test func sequenceIVIsBigEndianMediaSequence() {
        #expect(AES128Key.sequenceIV(5).hexString == "0x00000000000000000000000000000005")
        #expect(AES128Key.sequenceIV(0).hexString == "0x00000000000000000000000000000000")
        #expect(AES128Key.sequenceIV(0x0102_0304_0506_0708).hexString == "0x00000000000000000102030405060708")
        #expect(AES128Key.sequenceIV(UInt64.max).hexString == "0x0000000000000000ffffffffffffffff")
    }

    @Test func hexStringIsLowercaseAndRoundTrips() throws {
        let key = try AES128Key(hex: "2B7E151628AED2A6ABF7158809CF4F3C")
        #expect(key.hexString == "0x2b7e151628aed2a6abf7158809cf4f3c")
        #expect(try AES128Key(hex: key.hexString) == key)
    }
}

@Suite(.tags(.unit)) struct SegmentCipherKnownAnswerTests {
    // Expected ciphertexts computed once with:
    //   printf 'Kerf HLS segment' | openssl enc -aes-128-cbc \
    //     -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000005 | xxd -p
    //   printf 'hello, kerf' | openssl enc -aes-128-cbc \
    //     -K 2b7e151628aed2a6abf7158809cf4f3c -iv 000102030405060708090a0b0c0d0e0f | xxd -p
    //   printf '' | openssl enc -aes-128-cbc \
    //     -K 2b7e151628aed2a6abf7158809cf4f3c -iv 000102030405060708090a0b0c0d0e0f | xxd -p
    static let sixteenByteCiphertext = "55562ad48cb35298fad9128c36aac6e70d634feeedd0b038c376d6d34364e02d"
    static let elevenByteCiphertext = "ad5af1fb8b662342db4e59c340ec8d35"
    static let emptyCiphertext = "c84af0b613435d5d9182801a9bd9320b"

    @Test func matchesOpenSSLForAFullBlock() throws {
        let cipher = SegmentCipher(key: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"))
        let ciphertext = try cipher.encrypt(Array("Kerf HLS segment".utf8), iv: .sequenceIV(5))
        #expect(ciphertext == bytes(hex: Self.sixteenByteCiphertext))
        #expect(ciphertext.count == 32)  // a full block gains a whole padding block
    }

    @Test func matchesOpenSSLForAPartialBlockAndEmptyInput() throws {
        let cipher = SegmentCipher(key: try AES128Key(hex: "2b7e151628aed2a6abf7158809cf4f3c"))
        let iv = try AES128Key(hex: "000102030405060708090a0b0c0d0e0f")
        #expect(try cipher.encrypt(Array("hello, kerf".utf8), iv: iv) == bytes(hex: Self.elevenByteCiphertext))
        #expect(try cipher.encrypt([], iv: iv) == bytes(hex: Self.emptyCiphertext))
    }

    @Test(arguments: [0, 1, 15, 16, 17, 31, 32, 1000, 188 * 7])
    func ciphertextIsPaddedToNextBlock(_ length: Int) throws {
        let cipher = SegmentCipher(key: try AES128Key(hex: "2b7e151628aed2a6abf7158809cf4f3c"))
        let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let ciphertext = try cipher.encrypt(plaintext, iv: .sequenceIV(UInt64(length)))
        #expect(ciphertext.count == (length / 16 + 1) * 16)
        #expect(try cipher.decrypt(ciphertext, iv: .sequenceIV(UInt64(length))) == plaintext)
    }

    @Test func decryptsOpenSSLOutput() throws {
        let cipher = SegmentCipher(key: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"))
        let plaintext = try cipher.decrypt(bytes(hex: Self.sixteenByteCiphertext), iv: .sequenceIV(5))
        #expect(String(decoding: plaintext, as: UTF8.self) == "Kerf HLS segment")
    }

    @Test func differentIVsGiveDifferentCiphertexts() throws {
        let cipher = SegmentCipher(key: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"))
        let plaintext = Array("Kerf HLS segment".utf8)
        let a = try cipher.encrypt(plaintext, iv: .sequenceIV(5))
        let b = try cipher.encrypt(plaintext, iv: .sequenceIV(6))
        #expect(a != b)
        #expect(a.count == b.count)
    }

    @Test func wrongKeyFailsToDecrypt() throws {
        // With this key the last decrypted block ends in 0xde, which is not valid PKCS#7 padding.
        let wrong = SegmentCipher(key: try AES128Key(hex: "0f0e0d0c0b0a09080706050403020100"))
        let error = #expect(throws: CryptoError.self) {
            try wrong.decrypt(bytes(hex: Self.sixteenByteCiphertext), iv: .sequenceIV(5))
        }
        #expect(error?.code == .library)
        #expect(error?.function == "EVP_CipherFinal_ex")
        #expect(error?.isInputError == false)
    }

    @Test func truncatedCiphertextFailsToDecrypt() throws {
        let cipher = SegmentCipher(key: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"))
        let truncated = Array(bytes(hex: Self.sixteenByteCiphertext).prefix(20))
        #expect(throws: CryptoError.self) { try cipher.decrypt(truncated, iv: .sequenceIV(5)) }
    }
}
