internal import COpenSSL

/// The two Common Encryption schemes Kerf writes (ISO/IEC 23001-7 §10).
public enum ProtectionSchemeCipher: Sendable {
    /// `cenc`: AES-128-CTR over the protected bytes of a sample, one key stream per sample.
    case ctr
    /// `cbcs`: AES-128-CBC over a pattern of blocks, restarting from the constant IV at each
    /// subsample; a partial last block stays clear.
    case cbc
}

/// Encrypts (and, for tests and tools, decrypts) the protected ranges of media samples through
/// OpenSSL's EVP interface (AES-NI where the processor has it). One cipher serves one track:
/// the key schedule is made once and only the IV changes per sample.
///
/// Not thread-safe: a cipher is used by one track writer at a time.
public final class SampleCipher {
    public let mode: ProtectionSchemeCipher
    private let context: OpaquePointer
    private let encrypting: Bool

    /// - Parameter encrypting: false makes a decrypting cipher.
    /// - Throws: `.library` when OpenSSL cannot set the cipher up.
    public init(key: AES128Key, mode: ProtectionSchemeCipher, encrypting: Bool = true) throws(CryptoError) {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw CryptoError(.library, "cannot create cipher context", function: "EVP_CIPHER_CTX_new")
        }
        self.context = context
        self.mode = mode
        self.encrypting = encrypting
        let cipher = mode == .ctr ? EVP_aes_128_ctr() : EVP_aes_128_cbc()
        let zero = [UInt8](repeating: 0, count: 16)
        let initialised = key.bytes.withUnsafeBufferPointer { k in
            zero.withUnsafeBufferPointer { v in
                EVP_CipherInit_ex(context, cipher, nil, k.baseAddress, v.baseAddress, encrypting ? 1 : 0)
            }
        }
        guard initialised == 1 else {
            EVP_CIPHER_CTX_free(context)
            throw SegmentCipher.failure("EVP_CipherInit_ex", "cannot initialise AES-128")
        }
        EVP_CIPHER_CTX_set_padding(context, 0)
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// `cenc`: the bytes of `ranges` (in order, not overlapping) of `buffer`, taken together as
    /// one AES-CTR key stream starting at counter block `iv` (an 8-byte IV is padded with a
    /// zero block counter), are encrypted (or decrypted) in place.
    public func applyCTR(_ buffer: inout [UInt8], ranges: [Range<Int>], iv: [UInt8]) throws(CryptoError) {
        var failure: CryptoError?
        buffer.withUnsafeMutableBytes { bytes in
            do throws(CryptoError) { try applyCTR(bytes, ranges: ranges, iv: iv) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `applyCTR` over bytes owned elsewhere (a packet's payload).
    public func applyCTR(_ buffer: UnsafeMutableRawBufferPointer, ranges: [Range<Int>], iv: [UInt8]) throws(CryptoError) {
        precondition(mode == .ctr)
        try setIV(iv.count == 8 ? iv + [UInt8](repeating: 0, count: 8) : iv)
        for range in ranges where !range.isEmpty { try update(buffer, range) }
    }

    /// `cbcs`: each range of `buffer` is processed from `iv` (16 bytes), `crypt` blocks of 16
    /// bytes encrypted then `skip` blocks left clear, repeating; the CBC chain runs through the
    /// encrypted blocks of a range. A pattern of 0:0 encrypts every whole block. Bytes after
    /// the last whole block of a range, and a pattern's incomplete last `crypt` run, stay clear.
    public func applyCBC(_ buffer: inout [UInt8], ranges: [Range<Int>], iv: [UInt8], crypt: Int, skip: Int) throws(CryptoError) {
        var failure: CryptoError?
        buffer.withUnsafeMutableBytes { bytes in
            do throws(CryptoError) { try applyCBC(bytes, ranges: ranges, iv: iv, crypt: crypt, skip: skip) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `applyCBC` over bytes owned elsewhere (a packet's payload).
    public func applyCBC(_ buffer: UnsafeMutableRawBufferPointer, ranges: [Range<Int>], iv: [UInt8], crypt: Int, skip: Int) throws(CryptoError) {
        precondition(mode == .cbc && iv.count == 16)
        for range in ranges where range.count >= 16 {
            try setIV(iv)
            if crypt == 0 && skip == 0 {
                try update(buffer, range.lowerBound..<(range.lowerBound + range.count / 16 * 16))
                continue
            }
            var offset = range.lowerBound
            while range.upperBound - offset >= 16 * crypt {
                try update(buffer, offset..<(offset + 16 * crypt))
                offset += 16 * (crypt + skip)
            }
        }
    }

    private func setIV(_ iv: [UInt8]) throws(CryptoError) {
        guard iv.count == 16 else { throw CryptoError(.invalidIV, "an AES counter block or IV is 16 bytes, got \(iv.count)") }
        let result = iv.withUnsafeBufferPointer { v in EVP_CipherInit_ex(context, nil, nil, nil, v.baseAddress, encrypting ? 1 : 0) }
        guard result == 1 else { throw SegmentCipher.failure("EVP_CipherInit_ex", "cannot set the IV") }
    }

    /// Runs the cipher over `range` of `buffer` in place (EVP allows exactly overlapping input and output).
    private func update(_ buffer: UnsafeMutableRawBufferPointer, _ range: Range<Int>) throws(CryptoError) {
        guard !range.isEmpty else { return }
        precondition(range.upperBound <= buffer.count)
        var written: Int32 = 0
        let start = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + range.lowerBound
        let result = EVP_CipherUpdate(context, start, &written, start, Int32(range.count))
        guard result == 1, Int(written) == range.count else {
            throw SegmentCipher.failure("EVP_CipherUpdate", encrypting ? "cannot encrypt a sample" : "cannot decrypt a sample")
        }
    }
}
