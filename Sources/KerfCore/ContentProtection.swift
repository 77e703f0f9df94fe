/// A Common Encryption scheme (ISO/IEC 23001-7 §10).
public enum ProtectionScheme: String, Sendable, Hashable, Codable, CaseIterable {
    /// AES-CTR, whole blocks of each video NAL unit's slice data, whole audio samples.
    case cenc
    /// AES-CBC with a 1:9 block pattern for video and a constant IV (FairPlay, Widevine,
    /// PlayReady from one set of files).
    case cbcs
}

/// How a rendition is protected, as its manifests signal it: the scheme, the key ID, where
/// HLS players get the key, and the DRM systems listed in DASH ContentProtection elements.
/// Never holds the key itself.
public struct ContentProtection: Sendable, Hashable, Codable {
    /// A DRM system a DASH ContentProtection element names.
    public struct System: Sendable, Hashable, Codable {
        /// The system ID as a lowercase UUID ("1077efec-c0b2-4d02-ace3-3c1e52e2fb4b").
        public var id: String
        /// ContentProtection@value, if the system defines one.
        public var value: String?
        /// The system's `pssh` box (written base64 in `cenc:pssh`).
        public var pssh: [UInt8]?
        /// The PlayReady Header Object, for `mspr:pro` (PlayReady only).
        public var playReadyObject: [UInt8]?
        /// Where players get licenses (`dashif:Laurl`, DASH-IF IOP security guidelines).
        public var licenseURL: String?
        /// Whether MPDs list the system (FairPlay is signalled in HLS only).
        public var signalledInDASH: Bool
        /// How HLS playlists name the system's key (nil: the system is not signalled in HLS).
        public var hls: HLSKeyFormat?

        public init(id: String, value: String? = nil, pssh: [UInt8]? = nil, playReadyObject: [UInt8]? = nil,
                    licenseURL: String? = nil, signalledInDASH: Bool = true, hls: HLSKeyFormat? = nil) {
            self.id = id
            self.value = value
            self.pssh = pssh
            self.playReadyObject = playReadyObject
            self.licenseURL = licenseURL
            self.signalledInDASH = signalledInDASH
            self.hls = hls
        }

        /// The W3C Common PSSH box system ("common" key system of ISO/IEC 23001-7 §8.1.3).
        public static let commonID = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
        /// W3C Clear Key as DASH-IF IOP names it in MPDs.
        public static let clearKeyID = "e2719d58-a985-b3c9-781a-b030af78d30e"
        public static let widevineID = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
        public static let playReadyID = "9a04f079-9840-4286-ab92-e65be0885f95"
        public static let fairPlayID = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
    }

    /// A key system's EXT-X-KEY in HLS: KEYFORMAT, KEYFORMATVERSIONS and the URI players hand
    /// to it (a key file, an `skd://` URI, a `data:` URI holding a PSSH). A relative URI is
    /// relative to the presentation root.
    public struct HLSKeyFormat: Sendable, Hashable, Codable {
        public var keyFormat: String
        public var keyFormatVersions: String?
        public var uri: String

        public init(keyFormat: String, keyFormatVersions: String? = nil, uri: String) {
            self.keyFormat = keyFormat
            self.keyFormatVersions = keyFormatVersions
            self.uri = uri
        }

        /// A system's key in HLS at `uri`, KEYFORMATVERSIONS "1", under the KEYFORMAT HLS
        /// players know it by: Apple's name for FairPlay, Microsoft's for PlayReady, the system
        /// ID as a URN otherwise (Widevine).
        public init(systemID: String, uri: String) {
            let format = switch systemID {
            case System.fairPlayID: "com.apple.streamingkeydelivery"
            case System.playReadyID: "com.microsoft.playready"
            default: "urn:uuid:" + systemID
            }
            self.init(keyFormat: format, keyFormatVersions: "1", uri: uri)
        }

        /// Widevine's key: its `pssh` box as a `data:` URI.
        public static func widevine(pssh: [UInt8]) -> HLSKeyFormat {
            HLSKeyFormat(systemID: System.widevineID, uri: "data:text/plain;base64," + Base64.encode(pssh))
        }

        /// PlayReady's key: its PlayReady Header Object as a UTF-16 `data:` URI.
        public static func playReady(object: [UInt8]) -> HLSKeyFormat {
            HLSKeyFormat(systemID: System.playReadyID, uri: "data:text/plain;charset=UTF-16;base64," + Base64.encode(object))
        }
    }

    public var scheme: ProtectionScheme
    /// The 16-byte key ID of the rendition's samples (`tenc` default_KID).
    public var keyID: [UInt8]
    /// The key's URI for HLS `EXT-X-KEY`/`EXT-X-SESSION-KEY` with KEYFORMAT "identity":
    /// relative to the presentation root ("key_<kid>.bin"), or absolute; nil when the key is
    /// only given out by DRM systems.
    public var keyURI: String?
    public var systems: [System]
    /// The IV HLS EXT-X-KEY states (16 bytes): for SAMPLE-AES MPEG-TS segments, whose IV is
    /// not in the media. Nil for Common Encryption, whose IVs are in the segments.
    public var iv: [UInt8]?

    public init(scheme: ProtectionScheme, keyID: [UInt8], keyURI: String?, systems: [System] = [], iv: [UInt8]? = nil) {
        self.scheme = scheme
        self.keyID = keyID
        self.keyURI = keyURI
        self.systems = systems
        self.iv = iv
    }

    /// The key ID as 32 lowercase hex digits.
    public var keyIDHex: String { Hex.string(keyID) }

    /// The IV as lowercase hex digits, if there is one.
    public var ivHex: String? { iv.map { Hex.string($0) } }

    /// The key ID as a UUID (8-4-4-4-12), the form of `cenc:default_KID`.
    public var keyIDUUID: String { Hex.uuid(keyID) }
}
