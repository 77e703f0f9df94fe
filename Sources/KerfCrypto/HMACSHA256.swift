internal import COpenSSL

/// HMAC-SHA256 (RFC 2104) through OpenSSL, and a comparison whose time does not depend on
/// where two byte strings differ: what signed URLs and tokens need.
public enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key`.
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                output.withUnsafeMutableBytes { out in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                         out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        // HMAC fails only without memory for its context, which nothing here can recover from.
        precondition(result != nil, "HMAC-SHA256 failed")
        return Array(output[0..<Int(length)])
    }

    /// True when `a` and `b` are equal, in a time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    /// A key made once per process for `secretsMatch`.
    private static let comparisonKey: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    /// True when a secret someone gave equals the expected one, in a time that tells nothing of
    /// either, not even the expected length: both are first authenticated with a per-process
    /// random key and the 32-byte codes compared in constant time.
    public static func secretsMatch(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        constantTimeEqual(authenticationCode(key: comparisonKey, message: given), authenticationCode(key: comparisonKey, message: expected))
    }
}
