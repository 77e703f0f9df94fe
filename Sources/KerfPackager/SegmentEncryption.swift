import KerfCrypto
import KerfManifest

/// HLS whole-segment AES-128 (RFC 8216bis §4.4.4.4): how segments are encrypted and the
/// EXT-X-KEY that tells players how to decrypt them.
public struct SegmentEncryption: Sendable {
    public let key: AES128Key
    /// Fixed IV for every segment; `nil` uses each segment's media sequence number.
    public let iv: AES128Key?
    /// The key URI written in EXT-X-KEY, relative to media playlists or absolute.
    public let keyURI: String
    /// Write the key into the package as `key.bin` (when no external key URI is given).
    public let publishesKey: Bool

    public init(key: AES128Key, iv: AES128Key?, keyURI: String?) {
        self.key = key
        self.iv = iv
        self.keyURI = keyURI ?? "../key.bin"
        self.publishesKey = keyURI == nil
    }

    /// Encrypts a segment numbered from 1 (media sequence number = number − 1).
    func encrypt(_ bytes: [UInt8], segmentNumber: Int) throws(CryptoError) -> [UInt8] {
        try SegmentCipher(key: key).encrypt(bytes, iv: iv ?? AES128Key.sequenceIV(UInt64(segmentNumber - 1)))
    }

    var hlsKey: HLSKey { HLSKey(method: .aes128, uri: keyURI, iv: iv?.hexString) }
}
