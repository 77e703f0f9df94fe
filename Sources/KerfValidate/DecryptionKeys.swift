import KerfCrypto

/// The keys `kerf validate --deep --key …` decrypts with: Common Encryption keys by key ID
/// (`<kid>:<key>`), and at most one bare key for HLS AES-128 and SAMPLE-AES MPEG-TS segments
/// (which carry no key ID) whose key URI cannot be read. Its text form names key IDs only, never a key.
public struct DecryptionKeys: Sendable, CustomStringConvertible {
    public private(set) var contentKeys: [ContentKey] = []
    public private(set) var bareKey: AES128Key?

    public init() {}

    /// Adds `<kid>:<key>` (32 hex digits each) or a bare key (32 hex digits).
    /// - Throws: `CryptoError(.invalidKey)` naming what is wrong (never the value): not hex,
    ///   not 32 digits, a second bare key, or one key ID given two different keys.
    public mutating func add(parsing text: String) throws(CryptoError) {
        guard text.contains(":") else {
            let key: AES128Key
            do { key = try AES128Key(hex: text) } catch {
                throw CryptoError(.invalidKey, "a key is <key ID>:<key>, or a bare <key> for AES-128 and SAMPLE-AES MPEG-TS: 32 hex digits each")
            }
            if let bareKey, bareKey != key { throw CryptoError(.invalidKey, "only one bare key (without a key ID) can be given") }
            bareKey = key
            return
        }
        let key = try ContentKey(parsing: text)
        if let known = contentKeys.first(where: { $0.keyID == key.keyID }) {
            guard known.key == key.key else {
                throw CryptoError(.invalidKey, "key ID \(key.keyIDHex) is given two different keys")
            }
            return
        }
        contentKeys.append(key)
    }

    public var isEmpty: Bool { contentKeys.isEmpty && bareKey == nil }

    /// The key of `keyID`, if one was given.
    func key(for keyID: [UInt8]) -> AES128Key? {
        contentKeys.first { $0.keyID == keyID }?.key
    }

    /// These keys plus `key` for `keyID` when none was given for it (a key an HLS identity
    /// key URI serves).
    func adding(_ key: AES128Key, for keyID: [UInt8]) -> DecryptionKeys {
        guard self.key(for: keyID) == nil, let content = try? ContentKey(keyID: keyID, key: key) else { return self }
        var copy = self
        copy.contentKeys.append(content)
        return copy
    }

    public var description: String {
        var parts = contentKeys.map(\.description)
        if bareKey != nil { parts.append("a bare AES-128 key") }
        return parts.isEmpty ? "no keys" : parts.joined(separator: ", ")
    }
}
