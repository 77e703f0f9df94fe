internal import COpenSSL

/// Whole-segment AES-128-CBC with PKCS#7 padding, as HLS `METHOD=AES-128` requires
/// (RFC 8216bis §4.4.4.4).
public struct SegmentCipher: Sendable {
    public let key: AES128Key

    public init(key: AES128Key) { self.key = key }

    /// Encrypts `plaintext` with `iv`; the result is padded to a multiple of 16 bytes.
    public func encrypt(_ plaintext: [UInt8], iv: AES128Key) throws(CryptoError) -> [UInt8] {
        try run(plaintext, iv: iv, encrypting: true)
    }

    /// Decrypts and strips the padding.
    /// - Throws: `.library` when the padding is wrong (a wrong key or IV, or damaged bytes).
    public func decrypt(_ ciphertext: [UInt8], iv: AES128Key) throws(CryptoError) -> [UInt8] {
        try run(ciphertext, iv: iv, encrypting: false)
    }

    private func run(_ input: [UInt8], iv: AES128Key, encrypting: Bool) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw CryptoError(.library, "cannot create cipher context", function: "EVP_CIPHER_CTX_new")
        }
        defer { EVP_CIPHER_CTX_free(context) }
        let initialised = key.bytes.withUnsafeBufferPointer { k in
            iv.bytes.withUnsafeBufferPointer { v in
                EVP_CipherInit_ex(context, EVP_aes_128_cbc(), nil, k.baseAddress, v.baseAddress, encrypting ? 1 : 0)
            }
        }
        guard initialised == 1 else { throw Self.failure("EVP_CipherInit_ex", "cannot initialise AES-128-CBC") }
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var written: Int32 = 0, final: Int32 = 0
        let updated = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in
                EVP_CipherUpdate(context, out.baseAddress, &written, inp.baseAddress, Int32(inp.count))
            }
        }
        guard updated == 1 else { throw Self.failure("EVP_CipherUpdate", "cannot \(encrypting ? "encrypt" : "decrypt")") }
        let finished = output.withUnsafeMutableBufferPointer { out in
            EVP_CipherFinal_ex(context, out.baseAddress! + Int(written), &final)
        }
        guard finished == 1 else {
            throw Self.failure("EVP_CipherFinal_ex", encrypting ? "cannot encrypt" : "cannot decrypt: wrong key or damaged data")
        }
        output.removeSubrange(Int(written + final)...)
        return output
    }

    static func failure(_ function: String, _ message: String) -> CryptoError {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        ERR_clear_error()
        return CryptoError(.library, message, function: function, libraryMessage: code == 0 ? nil : text)
    }
}
