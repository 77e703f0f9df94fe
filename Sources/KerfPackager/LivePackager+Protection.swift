import KerfCore
import KerfCrypto

/// A live channel's Common Encryption signalling: per rendition, and per key period under key
/// rotation.
extension LivePackager {
    /// A live rendition's protection with `key`. A live origin publishes no key files: HLS gets
    /// an identity key only at the key URI given (`{kid}` in it stands for the key ID in hex).
    static func protection(_ encryption: CommonEncryption, _ key: ContentKey) throws -> ContentProtection {
        var protection = try encryption.protection(for: key)
        protection.keyURI = encryption.keyURI?.replacing("{kid}", with: key.keyIDHex)
        return protection
    }

    /// A rotating rendition's protection as its init segment and MPD give it: the scheme, an
    /// all-zero default KID and the DRM systems without data; each fragment names its key in a
    /// `seig` group and carries its `pssh` boxes, and each HLS segment its keys.
    static func rotatingProtection(_ encryption: CommonEncryption, _ key: ContentKey) throws -> ContentProtection {
        var protection = try encryption.protection(for: key)
        protection.keyID = [UInt8](repeating: 0, count: 16)
        protection.keyURI = nil
        protection.systems = protection.systems.map { ContentProtection.System(id: $0.id, value: $0.value, licenseURL: $0.licenseURL,
                                                                               signalledInDASH: $0.signalledInDASH) }
        return protection
    }

    /// The protection of key period `period` (key rotation), made once: the fragments' `pssh`
    /// boxes and the segments' signalling come from it.
    func periodProtection(period: Int64) throws -> ContentProtection {
        guard let encryption, let rotation = encryption.rotation else {
            throw PackagerError(.invalidOptions, "a key period without key rotation")
        }
        if let known = periodProtections[period] { return known }
        let made = try Self.protection(encryption, rotation.key(period: period))
        if periodProtections.count > 16 { periodProtections = periodProtections.filter { $0.key >= period - 1 } }
        periodProtections[period] = made
        return made
    }
}
