import KerfCore
import KerfCrypto

/// How a protected package tells players about its keys: the DRM systems of `--drm` with
/// signalling generated from the keys (or `--pssh`), a CPIX document's systems, the key files
/// Clear Key publishes.
extension CommonEncryption {
    /// Whether the keys are published for HLS (KEYFORMAT "identity"): with Clear Key, or
    /// wherever `--key-uri` points.
    var signalsIdentityKey: Bool { drmSystems.contains(.clearkey) || keyURI != nil }

    /// Whether the package holds the key files (`key_<kid>.bin`): Clear Key without `--key-uri`.
    var publishesKeyFiles: Bool { drmSystems.contains(.clearkey) && keyURI == nil }

    /// The file a key is published as in the package (the HLS key URI when none is given).
    static func keyFile(_ key: ContentKey) -> String { "key_\(key.keyIDHex).bin" }

    /// The IV a key's tracks start from: the CPIX `explicitIV` of the key, else `--iv`.
    func iv(for key: ContentKey) -> [UInt8]? {
        cpix?.keys.first { $0.key.keyID == key.keyID }?.explicitIV ?? iv
    }

    func licenseURL(_ system: DRMSystem) -> String? { licenseURLs[system] ?? licenseURLs[nil] }

    /// The signalling of a rendition protected with `key`: the mp4protection scheme and KID,
    /// then each DRM system in `--drm` order, then the CPIX document's systems for the key and
    /// any `--pssh` box of a system not named.
    /// - Throws: `CryptoError` when the PlayReady checksum cannot be computed.
    public func protection(for key: ContentKey) throws(CryptoError) -> ContentProtection {
        // Key rotation: each period's boxes name the period's key alone.
        let ids = rotation != nil || keys.isEmpty ? [key.keyID] : keys.map(\.keyID)
        let fromCPIX = cpix?.signalling(for: key.keyID) ?? []
        var systems: [ContentProtection.System] = []
        for drm in drmSystems where !fromCPIX.contains(where: { $0.id == drm.systemID }) {
            if let system = try generated(drm, key: key, keyIDs: ids) { systems.append(system) }
        }
        systems += fromCPIX
        for box in psshBoxes {
            guard let id = ProtectionSystemHeader.systemID(of: box), !systems.contains(where: { $0.id == id }) else { continue }
            systems.append(ContentProtection.System(id: id, pssh: box))
        }
        return ContentProtection(scheme: scheme, keyID: key.keyID, keyURI: signalsIdentityKey ? keyURI ?? Self.keyFile(key) : nil,
                                 systems: systems)
    }

    /// The `pssh` boxes of a key's systems, for init segments (`--pssh-in-init`).
    func psshBoxes(for key: ContentKey) throws(CryptoError) -> [UInt8] {
        try protection(for: key).systems.compactMap(\.pssh).flatMap { $0 }
    }

    /// A system's signalling made from the keys; a `--pssh` box of the system replaces the
    /// generated one.
    private func generated(_ drm: DRMSystem, key: ContentKey, keyIDs: [[UInt8]]) throws(CryptoError) -> ContentProtection.System? {
        let given = psshBoxes.first { ProtectionSystemHeader.systemID(of: $0) == drm.systemID }
        let url = licenseURL(drm)
        switch drm {
        case .common:
            return .init(id: drm.systemID, pssh: given ?? ProtectionSystemHeader.box(systemID: drm.systemID, keyIDs: keyIDs))
        case .clearkey:
            return .init(id: drm.systemID, value: "ClearKey1.0",
                         pssh: given ?? ProtectionSystemHeader.box(systemID: drm.systemID, keyIDs: keyIDs), licenseURL: url)
        case .widevine:
            let pssh = given ?? ProtectionSystemHeader.widevine(keyIDs: keyIDs, scheme: scheme)
            return .init(id: drm.systemID, value: "Widevine", pssh: pssh, licenseURL: url,
                         hls: .widevine(pssh: pssh))
        case .playready:
            let object: [UInt8]
            if let given { object = Self.psshData(given) } else {
                object = try ProtectionSystemHeader.playReadyObject(key: key, scheme: scheme, licenseURL: url)
            }
            return .init(id: drm.systemID, value: "MSPR 2.0",
                         pssh: given ?? ProtectionSystemHeader.box(systemID: drm.systemID, keyIDs: [], data: object),
                         playReadyObject: object, licenseURL: url,
                         hls: .playReady(object: object))
        case .fairplay:
            // FairPlay is an HLS system: its key server knows the content key by the skd URI.
            return .init(id: drm.systemID, signalledInDASH: false,
                         hls: .init(systemID: drm.systemID, uri: "skd://" + key.keyIDHex))
        }
    }

    /// The system-specific data of a `pssh` box (the PlayReady Header Object of PlayReady's).
    static func psshData(_ box: [UInt8]) -> [UInt8] { (try? PSSHBox.parse(box))?.data ?? [] }
}
