import KerfCore

/// How protected renditions are signalled: DASH ContentProtection elements (ISO/IEC 23001-7
/// §11, DASH-IF IOP) and HLS EXT-X-KEY / EXT-X-SESSION-KEY with KEYFORMAT "identity".
extension Presentation {
    /// The mp4protection descriptor (scheme and `cenc:default_KID`), then one element per DRM
    /// system with its `cenc:pssh`.
    static func contentProtections(_ protection: ContentProtection?) -> [ContentProtectionDescriptor] {
        guard let protection else { return [] }
        return [ContentProtectionDescriptor(schemeIdUri: "urn:mpeg:dash:mp4protection:2011", value: protection.scheme.rawValue,
                                            defaultKID: protection.keyIDUUID)]
            + protection.systems.map { system in
                ContentProtectionDescriptor(schemeIdUri: "urn:uuid:\(system.id)", value: system.value,
                                            pssh: system.pssh.map(Base64.encode))
            }
    }

    /// EXT-X-KEY (or EXT-X-SESSION-KEY) of a protected rendition: SAMPLE-AES for `cbcs`,
    /// SAMPLE-AES-CTR for `cenc`, KEYFORMAT "identity", the KID, and the IV where the
    /// protection states one (SAMPLE-AES MPEG-TS) unless `withIV` is false (session keys only
    /// name the key). A relative key URI is relative to the presentation root, so media
    /// playlists (one folder down) get `../`.
    static func hlsKey(_ protection: ContentProtection, inRenditionFolder: Bool, withIV: Bool = true) -> HLSKey {
        let uri = protection.keyURI
        let absolute = uri.hasPrefix("/") || uri.contains(":")
        return HLSKey(method: protection.scheme == .cbcs ? .sampleAES : .sampleAESCTR,
                      uri: absolute || !inRenditionFolder ? uri : "../" + uri, iv: withIV ? protection.ivHex.map { "0x" + $0 } : nil,
                      keyFormat: "identity", keyID: "0x" + protection.keyIDHex)
    }

    /// The key a rendition's media and I-frame playlists start with: its protection's, else
    /// the listing's AES-128 key.
    func hlsKey(of track: Track, _ listing: Listing) -> HLSKey? {
        track.description.protection.map { Self.hlsKey($0, inRenditionFolder: true) } ?? listing.hlsKey
    }
}

/// Base64 (RFC 4648 §4) with padding, for `cenc:pssh`.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var text = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                text.append(position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 0x3f] : "=")
            }
            index += 3
        }
        return text
    }
}
