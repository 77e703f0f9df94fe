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
