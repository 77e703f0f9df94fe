import KerfTestTags
import Testing
@testable import KerfCrypto

private func hex(_ text: String) -> [UInt8] {
    var result: [UInt8] = []
    let digits = Array(text.filter { !$0.isWhitespace })
    for i in stride(from: 0, to: digits.count, by: 2) { result.append(UInt8(String(digits[i...i + 1]), radix: 16)!) }
    return result
}

/// NIST SP 800-38A, Appendix F: AES-128 with key 2b7e1516…, the four plaintext blocks.
private enum SP800_38A {
    static let key = try! AES128Key(bytes: hex("2b7e151628aed2a6abf7158809cf4f3c"))
    static let plaintext = hex("""
        6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
        30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710
        """)
    /// F.5.1 CTR-AES128.Encrypt, initial counter block f0f1…ff.
    static let counter = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    static let ctr = hex("""
        874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
        5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee
        """)
    /// F.2.1 CBC-AES128.Encrypt, IV 0001…0f.
    static let iv = hex("000102030405060708090a0b0c0d0e0f")
    static let cbc = hex("""
        7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
        73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7
        """)
    static func block(_ bytes: [UInt8], _ n: Int) -> [UInt8] { Array(bytes[(16 * n)..<(16 * n + 16)]) }
}

@Suite(.tags(.unit)) struct SampleCipherTests {
    @Test func ctrMatchesTheNISTVector() throws {
        var data = SP800_38A.plaintext
        try SampleCipher(key: SP800_38A.key, mode: .ctr).applyCTR(&data, ranges: [0..<64], iv: SP800_38A.counter)
        #expect(data == SP800_38A.ctr)
        try SampleCipher(key: SP800_38A.key, mode: .ctr, encrypting: false).applyCTR(&data, ranges: [0..<64], iv: SP800_38A.counter)
        #expect(data == SP800_38A.plaintext)
    }

    /// cenc: the protected bytes of all subsamples form one key stream; clear bytes between
    /// them take none of it, and a range may end inside a block.
    @Test func ctrKeyStreamRunsOnAcrossRanges() throws {
        // Plaintext blocks 0–3 spread over a sample with 5 clear bytes before each range.
        var sample: [UInt8] = []
        var ranges: [Range<Int>] = []
        for piece in [0..<7, 7..<40, 40..<64] {
            sample += [UInt8](repeating: 0xee, count: 5)
            ranges.append(sample.count..<(sample.count + piece.count))
            sample += SP800_38A.plaintext[piece]
        }
        try SampleCipher(key: SP800_38A.key, mode: .ctr).applyCTR(&sample, ranges: ranges, iv: SP800_38A.counter)
        #expect(ranges.flatMap { sample[$0] } == SP800_38A.ctr)
        #expect(sample[0..<5].allSatisfy { $0 == 0xee } && sample[12..<17].allSatisfy { $0 == 0xee })
    }

    /// An 8-byte IV is the high half of the counter block; the block counter starts at zero.
    @Test func eightByteIVIsPaddedWithAZeroCounter() throws {
        let iv = hex("0102030405060708")
        var a = SP800_38A.plaintext, b = SP800_38A.plaintext
        try SampleCipher(key: SP800_38A.key, mode: .ctr).applyCTR(&a, ranges: [0..<64], iv: iv)
        try SampleCipher(key: SP800_38A.key, mode: .ctr).applyCTR(&b, ranges: [0..<64], iv: iv + [UInt8](repeating: 0, count: 8))
        #expect(a == b && a != SP800_38A.plaintext)
    }

    @Test func cbcWholeBlocksMatchTheNISTVector() throws {
        // Pattern 0:0 (cbcs audio): every whole block, the partial last block clear.
        let tail: [UInt8] = [1, 2, 3, 4, 5, 6, 7]
        var data = SP800_38A.plaintext + tail
        try SampleCipher(key: SP800_38A.key, mode: .cbc).applyCBC(&data, ranges: [0..<data.count], iv: SP800_38A.iv, crypt: 0, skip: 0)
        #expect(Array(data[0..<64]) == SP800_38A.cbc)
        #expect(Array(data[64...]) == tail)
        try SampleCipher(key: SP800_38A.key, mode: .cbc, encrypting: false).applyCBC(&data, ranges: [0..<data.count], iv: SP800_38A.iv, crypt: 0, skip: 0)
        #expect(data == SP800_38A.plaintext + tail)
    }

    /// cbcs video, pattern 1:9 over a 12-block-and-a-bit range: blocks 0 and 10 are encrypted
    /// and chained (block 10's CBC input is block 0's ciphertext), the rest stays clear.
    @Test func cbcsPatternEncryptsOneBlockInTen() throws {
        let filler = [UInt8](repeating: 0x55, count: 16)
        var plain = SP800_38A.block(SP800_38A.plaintext, 0)
        for _ in 1...9 { plain += filler }
        plain += SP800_38A.block(SP800_38A.plaintext, 1) + filler + [9, 9, 9]
        var data = [UInt8](repeating: 0xaa, count: 3) + plain
        let range = 3..<data.count
        try SampleCipher(key: SP800_38A.key, mode: .cbc).applyCBC(&data, ranges: [range], iv: SP800_38A.iv, crypt: 1, skip: 9)
        let out = Array(data[3...])
        #expect(SP800_38A.block(out, 0) == SP800_38A.block(SP800_38A.cbc, 0))
        #expect(SP800_38A.block(out, 10) == SP800_38A.block(SP800_38A.cbc, 1))
        for n in [1, 5, 9, 11] { #expect(SP800_38A.block(out, n) == filler, "block \(n) is clear") }
        #expect(Array(out.suffix(3)) == [9, 9, 9])
        #expect(Array(data[0..<3]) == [0xaa, 0xaa, 0xaa])
        // Each subsample starts again from the constant IV.
        var two = SP800_38A.plaintext
        try SampleCipher(key: SP800_38A.key, mode: .cbc).applyCBC(&two, ranges: [0..<16, 32..<48], iv: SP800_38A.iv, crypt: 1, skip: 9)
        var alone = SP800_38A.block(SP800_38A.plaintext, 2)
        try SampleCipher(key: SP800_38A.key, mode: .cbc).applyCBC(&alone, ranges: [0..<16], iv: SP800_38A.iv, crypt: 1, skip: 9)
        #expect(SP800_38A.block(two, 0) == SP800_38A.block(SP800_38A.cbc, 0))
        #expect(SP800_38A.block(two, 2) == alone)
    }
}

@Suite(.tags(.unit)) struct ContentKeyTests {
    @Test func parsesKeyIDAndKeyWithoutShowingTheKey() throws {
        let key = try ContentKey(parsing: "00112233445566778899AABBCCDDEEFF:000102030405060708090a0b0c0d0e0f")
        #expect(key.keyIDHex == "00112233445566778899aabbccddeeff")
        #expect(key.keyIDUUID == "00112233-4455-6677-8899-aabbccddeeff")
        #expect(key.key.bytes == hex("000102030405060708090a0b0c0d0e0f"))
        for text in [String(describing: key), String(reflecting: key), "\(key.key)", String(reflecting: key.key)] {
            #expect(!text.contains("0e0f") && !text.contains("[0, 1, 2"), "\(text)")
        }
    }

    @Test(arguments: ["", "00112233445566778899aabbccddeeff", "0011:000102030405060708090a0b0c0d0e0f",
                      "00112233445566778899aabbccddeeff:0001020304050607", "00112233445566778899aabbccddeeff:zz0102030405060708090a0b0c0d0e0f",
                      "a:b:c"])
    func malformedKeysAreRefusedWithoutTheirValue(_ text: String) {
        let error = #expect(throws: CryptoError.self) { try ContentKey(parsing: text) }
        #expect(error?.code == .invalidKey)
        #expect(!(error?.message.contains("0001020304") ?? true))
    }
}
