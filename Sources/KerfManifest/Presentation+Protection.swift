import KerfCore

/// How protected renditions are signalled: DASH ContentProtection elements (ISO/IEC 23001-7
/// §11, DASH-IF IOP) and HLS EXT-X-KEY / EXT-X-SESSION-KEY, one per KEYFORMAT.
extension Presentation {
    /// The mp4protection descriptor (scheme and `cenc:default_KID`), then one element per DRM
    /// system with its `cenc:pssh`, `mspr:pro` and `dashif:Laurl`.
    static func contentProtections(_ protection: ContentProtection?) -> [ContentProtectionDescriptor] {
        guard let protection else { return [] }
        return [ContentProtectionDescriptor(schemeIdUri: "urn:mpeg:dash:mp4protection:2011", value: protection.scheme.rawValue,
                                            defaultKID: protection.keyIDUUID)]
            + protection.systems.filter(\.signalledInDASH).map { system in
                ContentProtectionDescriptor(schemeIdUri: "urn:uuid:\(system.id)", value: system.value,
                                            pssh: system.pssh.map(Base64.encode),
                                            playReadyObject: system.playReadyObject.map(Base64.encode),
                                            licenseURL: system.licenseURL)
            }
    }

    /// The EXT-X-KEYs (or EXT-X-SESSION-KEYs) of a protected rendition, SAMPLE-AES for `cbcs`,
    /// SAMPLE-AES-CTR for `cenc`, each with the KID and the IV where the protection states one
    /// (SAMPLE-AES MPEG-TS) unless `withIV` is false (session keys only name the key):
    /// KEYFORMAT "identity" when the key is published at a URI, then one per DRM system
    /// signalled in HLS. A relative URI is relative to the presentation root, so media
    /// playlists (one folder down) get `../`.
    static func hlsKeys(_ protection: ContentProtection, inRenditionFolder: Bool, withIV: Bool = true) -> [HLSKey] {
        func located(_ uri: String) -> String {
            let absolute = uri.hasPrefix("/") || uri.contains(":")
            return absolute || !inRenditionFolder ? uri : "../" + uri
        }
        let method: HLSKey.Method = protection.scheme == .cbcs ? .sampleAES : .sampleAESCTR
        let keyID = "0x" + protection.keyIDHex, iv = withIV ? protection.ivHex.map { "0x" + $0 } : nil
        let identity = protection.keyURI.map { HLSKey(method: method, uri: located($0), iv: iv, keyFormat: "identity", keyID: keyID) }
        return (identity.map { [$0] } ?? []) + protection.systems.compactMap(\.hls).map { format in
            HLSKey(method: method, uri: located(format.uri), iv: iv, keyFormat: format.keyFormat,
                   keyFormatVersions: format.keyFormatVersions, keyID: keyID)
        }
    }

    /// The keys a rendition's media and I-frame playlists start with: its protection's, else
    /// the listing's AES-128 key.
    func hlsKeys(of track: Track, _ listing: Listing) -> [HLSKey] {
        track.description.protection.map { Self.hlsKeys($0, inRenditionFolder: true) } ?? (listing.hlsKey.map { [$0] } ?? [])
    }
}
