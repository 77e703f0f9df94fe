import KerfCore

/// A Common Encryption content key (ISO/IEC 23001-7): the 16-byte key ID (KID) players and
/// license servers know it by, and the AES-128 key itself.
///
/// Its text form never shows the key: `description` names the KID only, so a key can be
/// logged or put in an error by mistake without leaking.
public struct ContentKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let keyID: [UInt8]
    public let key: AES128Key

    public init(keyID: [UInt8], key: AES128Key) throws(CryptoError) {
        guard keyID.count == 16 else {
            throw CryptoError(.invalidKey, "a key ID is 16 bytes, got \(keyID.count)")
        }
        self.keyID = keyID
        self.key = key
    }

    /// Parses `<kid-hex>:<key-hex>` (32 hex digits each). Errors name the part that is wrong,
    /// never its value.
    public init(parsing text: String) throws(CryptoError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw CryptoError(.invalidKey, "a content key is <key ID>:<key>, 32 hex digits each")
        }
        let keyID: [UInt8]
        do { keyID = try AES128Key(hex: String(parts[0])).bytes } catch {
            throw CryptoError(.invalidKey, "the key ID is not 32 hex digits")
        }
        let key: AES128Key
        do { key = try AES128Key(hex: String(parts[1])) } catch {
            throw CryptoError(.invalidKey, "the key is not 32 hex digits")
        }
        try self.init(keyID: keyID, key: key)
    }

    /// The KID as 32 lowercase hex digits.
    public var keyIDHex: String { Hex.string(keyID) }

    /// The KID as a UUID (`cenc:default_KID`): 8-4-4-4-12 lowercase hex digits.
    public var keyIDUUID: String { Hex.uuid(keyID) }

    public var description: String { "content key \(keyIDHex)" }
    public var debugDescription: String { description }
}

/// Lowercase hexadecimal text of bytes.
public enum Hex {
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return text
    }

    /// 16 bytes as a UUID: 8-4-4-4-12 lowercase hex digits.
    public static func uuid(_ bytes: [UInt8]) -> String {
        let hex = Array(string(bytes))
        var text = ""
        for (index, digit) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { text.append("-") }
            text.append(digit)
        }
        return text
    }

    /// Parses an even number of hex digits (an optional `0x` prefix); nil when it is not hex.
    public static func bytes(_ text: String) -> [UInt8]? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard digits.count % 2 == 0, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        var result: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}
