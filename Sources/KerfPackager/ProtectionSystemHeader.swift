import KerfCore
import KerfCrypto

/// `pssh` boxes (ISO/IEC 23001-7 §8.1) and the system-specific data Kerf generates from raw
/// keys, as Shaka Packager does with `--protection_systems`.
public enum ProtectionSystemHeader {
    /// A `pssh` box: version 1 listing `keyIDs` when given, else version 0; `data` as the
    /// system-specific data.
    static func box(systemID: String, keyIDs: [[UInt8]], data: [UInt8] = []) -> [UInt8] {
        var w = BoxWriter()
        w.fullBox("pssh", version: keyIDs.isEmpty ? 0 : 1, flags: 0) { b in
            b.bytes += uuidBytes(systemID)
            if !keyIDs.isEmpty {
                b.u32(UInt32(keyIDs.count))
                for id in keyIDs { b.bytes += id }
            }
            b.u32(UInt32(data.count))
            b.bytes += data
        }
        return w.bytes
    }

    static func uuidBytes(_ uuid: String) -> [UInt8] {
        Hex.bytes(uuid.filter { $0 != "-" }) ?? []
    }

    /// The system ID of a `pssh` box, nil when `box` is not a well-formed one.
    static func systemID(of box: [UInt8]) -> String? { (try? PSSHBox.parse(box))?.system }

    /// Splits concatenated `pssh` boxes (`--pssh`, a CPIX PSSH element).
    /// - Throws: `.invalidOptions` when a box is truncated or not a `pssh`.
    public static func split(_ bytes: [UInt8], source: String) throws(PackagerError) -> [[UInt8]] {
        var boxes: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 32 else {
                throw PackagerError(.invalidOptions, "\(source): a pssh box is truncated", reason: "\(bytes.count - offset) bytes left at offset \(offset)")
            }
            let size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            guard size >= 32, offset + size <= bytes.count else {
                throw PackagerError(.invalidOptions, "\(source): a pssh box is truncated", reason: "its size runs past the end at offset \(offset)")
            }
            do { _ = try PSSHBox.parse(Array(bytes[offset..<offset + size])) } catch {
                throw PackagerError(.invalidOptions, "\(source): not a well-formed pssh box", reason: "at offset \(offset): \(error.reason)")
            }
            boxes.append(Array(bytes[offset..<offset + size]))
            offset += size
        }
        return boxes
    }

    /// Widevine's `pssh` (version 0): a WidevinePsshData protocol buffer with the key IDs
    /// (field 2) and, for schemes other than `cenc`, the scheme's four-character code (field 9).
    static func widevine(keyIDs: [[UInt8]], scheme: ProtectionScheme) -> [UInt8] {
        var data: [UInt8] = []
        for id in keyIDs { data += [0x12, UInt8(id.count)] + id }
        if scheme != .cenc {
            data.append(0x48)
            var value = Array(scheme.rawValue.utf8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            repeat {
                let low = UInt8(value & 0x7f)
                value >>= 7
                data.append(value == 0 ? low : low | 0x80)
            } while value != 0
        }
        return box(systemID: ContentProtection.System.widevineID, keyIDs: [], data: data)
    }

    /// A PlayReady Header Object (PlayReady Header Specification §1–2) for one key: a WRMHEADER
    /// 4.0 with AESCTR and the key's checksum for `cenc`, 4.3 with AESCBC for `cbcs`; the KID
    /// in GUID byte order, base64; `LA_URL` when a license URL is given.
    static func playReadyObject(key: ContentKey, scheme: ProtectionScheme, licenseURL: String?) throws(CryptoError) -> [UInt8] {
        var guid = key.keyID
        guid.replaceSubrange(0..<4, with: guid[0..<4].reversed())
        guid.replaceSubrange(4..<6, with: guid[4..<6].reversed())
        guid.replaceSubrange(6..<8, with: guid[6..<8].reversed())
        let kid = Base64.encode(guid)
        let url = licenseURL.map { "<LA_URL>\(Markup.escaped($0))</LA_URL>" } ?? ""
        let header: String
        switch scheme {
        case .cenc:
            // The checksum: the first 8 bytes of the GUID-ordered KID encrypted with the key (AES-ECB).
            var block = guid
            try SampleCipher(key: key.key, mode: .cbc).applyCBC(&block, ranges: [0..<16], iv: [UInt8](repeating: 0, count: 16), crypt: 1, skip: 0)
            header = "<WRMHEADER xmlns=\"http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader\" version=\"4.0.0.0\"><DATA>"
                + "<PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>\(kid)</KID>"
                + "<CHECKSUM>\(Base64.encode(Array(block.prefix(8))))</CHECKSUM>\(url)</DATA></WRMHEADER>"
        case .cbcs:
            header = "<WRMHEADER xmlns=\"http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader\" version=\"4.3.0.0\"><DATA>"
                + "<PROTECTINFO><KIDS><KID ALGID=\"AESCBC\" VALUE=\"\(kid)\"></KID></KIDS></PROTECTINFO>\(url)</DATA></WRMHEADER>"
        }
        let text = Array(header.utf16).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        var object: [UInt8] = []
        func littleEndian(_ value: Int, _ bytes: Int) { for i in 0..<bytes { object.append(UInt8((value >> (8 * i)) & 0xff)) } }
        littleEndian(4 + 2 + 4 + text.count, 4)  // the object's length
        littleEndian(1, 2)  // one record
        littleEndian(1, 2)  // record type 1: a rights management header
        littleEndian(text.count, 2)
        object += text
        return object
    }
}
