import KerfCore

/// A 128-bit AES key or initialisation vector, parsed from hex or raw bytes.
/// Its text form (`description`) never shows the bytes: keys are not to reach logs or errors.
public struct AES128Key: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == 16 else {
            throw CryptoError(.invalidKey, "an AES-128 key is 16 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Parses 32 hex digits, with an optional `0x` prefix.
    public init(hex: String) throws(CryptoError) {
        var text = Substring(hex.trimming(while: \.isWhitespace))
        if text.hasPrefix("0x") || text.hasPrefix("0X") { text = text.dropFirst(2) }
        guard text.allSatisfy({ $0.isASCII && $0.isHexDigit }) else {
            throw CryptoError(.invalidKey, "an AES-128 key is hexadecimal digits only")
        }
        guard text.count == 32 else {
            throw CryptoError(.invalidKey, "an AES-128 key is 32 hex digits, got \(text.count) characters")
        }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else {
                throw CryptoError(.invalidKey, "an AES-128 key is hexadecimal digits only")
            }
            bytes.append(byte)
            index = next
        }
        try self.init(bytes: bytes)
    }

    /// The IV HLS derives from a media sequence number when EXT-X-KEY has no IV attribute
    /// (RFC 8216bis §5.2): the number as a 128-bit big-endian integer.
    public static func sequenceIV(_ mediaSequence: UInt64) -> AES128Key {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[15 - i] = UInt8(truncatingIfNeeded: mediaSequence >> (8 * UInt64(i))) }
        return try! AES128Key(bytes: bytes)
    }

    public var description: String { "AES-128 key (16 bytes)" }
    public var debugDescription: String { description }

    /// `0x` followed by 32 lowercase hex digits, the EXT-X-KEY IV form.
    public var hexString: String {
        "0x" + bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
        }.joined()
    }
}
