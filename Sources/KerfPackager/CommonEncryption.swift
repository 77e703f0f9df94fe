import KerfCore
import KerfCrypto

/// Common Encryption of CMAF segments (ISO/IEC 23001-7, `cenc` or `cbcs`) with raw keys: what
/// `kerf package --encrypt cenc|cbcs --key …` asks for. Keys stay in memory; nothing here
/// prints them (`ContentKey` and `AES128Key` describe themselves without their bytes).
public struct CommonEncryption: Sendable, Equatable {
    public var scheme: ProtectionScheme
    /// The key of every track without a key of its own kind.
    public var defaultKey: ContentKey?
    /// Keys by track kind (`--key video=…`, `--key audio=…`).
    public var videoKey: ContentKey?
    public var audioKey: ContentKey?
    /// `cenc`: the first sample's IV of every track (8 or 16 bytes; later samples count up
    /// from it). `cbcs`: the constant IV of every track (16 bytes). Nil: derived per track
    /// from its key and rendition name (see `TrackEncryptor`).
    public var iv: [UInt8]?
    /// Segments starting before this time stay clear (still signalled as protected).
    public var clearLead: MediaTime
    /// Write the common-system `pssh` into init segments too (DASH-IF IOP prefers the MPD).
    public var psshInInit: Bool
    /// Key URI written in HLS EXT-X-KEY instead of the key files published in the package.
    public var keyURI: String?
    /// The DRM systems signalled (`--drm`); a CPIX document's systems come on top.
    public var drmSystems: [DRMSystem] = DRMSystem.defaults
    /// `pssh` boxes given whole (`--pssh`): they replace the generated box of their system.
    public var psshBoxes: [[UInt8]] = []
    /// License server URLs by DRM system (`--license-url [system=]URL`; nil: every system).
    public var licenseURLs: [DRMSystem?: String] = [:]
    /// Keys, signalling and usage rules from a CPIX document (`--cpix`), instead of `--key`.
    public var cpix: CPIXDocument?
    /// Live key rotation: a key per period derived from a root key, instead of `--key`/CPIX.
    public var rotation: KeyRotation?

    public init(scheme: ProtectionScheme, defaultKey: ContentKey? = nil, videoKey: ContentKey? = nil, audioKey: ContentKey? = nil,
                iv: [UInt8]? = nil, clearLead: MediaTime = .zero(timescale: 1), psshInInit: Bool = false, keyURI: String? = nil) {
        self.scheme = scheme
        self.defaultKey = defaultKey
        self.videoKey = videoKey
        self.audioKey = audioKey
        self.iv = iv
        self.clearLead = clearLead
        self.psshInInit = psshInInit
        self.keyURI = keyURI
    }

    /// The key of a track, nil when it has none (it is then refused): by the CPIX document's
    /// usage rules, else by the track's kind.
    /// - Throws: `.invalidOptions` when the CPIX rules match no key or several.
    public func key(for kind: Segmenter.Kind, track: TrackInfo, name: String) throws(PackagerError) -> ContentKey? {
        if let cpix { return kind == .text ? nil : try cpix.key(for: kind, track: track, name: name) }
        if let rotation { return kind == .text ? nil : rotation.key(period: 0) }
        return key(for: kind)
    }

    /// The key of a track of `kind` given with `--key`, nil when it has none.
    public func key(for kind: Segmenter.Kind) -> ContentKey? {
        switch kind {
        case .video: return videoKey ?? defaultKey
        case .audio: return audioKey ?? defaultKey
        case .text: return nil
        }
    }

    /// Every distinct key given, in a stable order (default, video, audio; the CPIX document's).
    public var keys: [ContentKey] {
        var result: [ContentKey] = []
        for key in [defaultKey, videoKey, audioKey].compactMap({ $0 }) + (cpix?.keys.map(\.key) ?? []) where !result.contains(where: { $0.keyID == key.keyID }) {
            result.append(key)
        }
        return result
    }

    /// Checks the IV against the scheme.
    /// - Throws: `.invalidOptions` naming the rule broken.
    public func validate() throws(PackagerError) {
        let given = defaultKey != nil || videoKey != nil || audioKey != nil
        if rotation != nil && (given || cpix != nil) {
            throw PackagerError(.invalidOptions, "key rotation derives its keys from the root key: give no key and no CPIX document")
        }
        guard given || cpix != nil || rotation != nil else {
            throw PackagerError(.invalidOptions, "--encrypt \(scheme.rawValue) needs --key <kid>:<key> or --cpix <file>")
        }
        if given && cpix != nil { throw PackagerError(.invalidOptions, "--key and --cpix cannot be combined") }
        if let mismatch = cpix?.keys.first(where: { $0.scheme != nil && $0.scheme != scheme }) {
            throw PackagerError(.invalidOptions, "the CPIX document gives key \(mismatch.key.keyIDUUID) for \(mismatch.scheme!.rawValue), not \(scheme.rawValue)")
        }
        if rotation != nil && iv != nil {
            throw PackagerError(.invalidOptions, "key rotation derives its IVs from the root key: give no IV")
        }
        for key in cpix?.keys ?? [] {
            guard let explicit = key.explicitIV else { continue }
            if scheme == .cbcs && explicit.count != 16 {
                throw PackagerError(.invalidOptions, "the CPIX explicitIV of key \(key.key.keyIDUUID) is \(explicit.count) bytes; cbcs needs a 16-byte constant IV")
            }
        }
        if drmSystems.contains(.fairplay) && scheme != .cbcs {
            throw PackagerError(.invalidOptions, "FairPlay needs --encrypt cbcs", reason: "FairPlay Streaming decrypts SAMPLE-AES (cbcs) only")
        }
        if let iv {
            switch scheme {
            case .cenc where iv.count != 8 && iv.count != 16:
                throw PackagerError(.invalidOptions, "--iv for cenc is 8 or 16 bytes (16 or 32 hex digits), got \(iv.count) bytes")
            case .cbcs where iv.count != 16:
                throw PackagerError(.invalidOptions, "--iv for cbcs is a 16-byte constant IV (32 hex digits), got \(iv.count) bytes")
            default: break
            }
        }
        let ids = [defaultKey, videoKey, audioKey].compactMap { $0 }
        for a in ids { for b in ids where a.keyID == b.keyID && a.key != b.key {
            throw PackagerError(.invalidOptions, "one key ID is given two different keys", reason: "key ID \(a.keyIDHex)")
        } }
    }
}

extension CommonEncryption {
    /// SAMPLE-AES of the MPEG-TS variant in `folder` whose lead track (video, or audio in an
    /// audio-only variant) is protected with `key`. A segment has one EXT-X-KEY, so the lead's
    /// key encrypts every stream of the variant; the IV is `--iv`, or else the `cbcs` IV derived
    /// from that key and the variant's folder ("ts_video_720p"), and the playlists state it.
    /// - Throws: `CryptoError` from OpenSSL.
    func transportEncryption(key: ContentKey, folder: String) throws -> TransportSampleEncryption {
        let iv = self.iv(for: key) ?? TrackEncryptor.derivedIV(scheme: .cbcs, key: key, rendition: folder)
        var signalled = try protection(for: key)
        signalled.iv = iv
        return TransportSampleEncryption(stream: try SampleAESTransportStream(key: key.key, iv: iv), protection: signalled)
    }
}

/// SAMPLE-AES of one MPEG-TS variant: how its segments are encrypted and how playlists signal it.
struct TransportSampleEncryption {
    let stream: SampleAESTransportStream
    let protection: ContentProtection
}

/// Which segments stay clear at the start: those starting before `duration`, by the
/// presentation's boundaries (the reference track's cuts), so every rendition keeps the same
/// segments clear. The packaging job records boundaries as the segmenter makes them.
final class ClearLead {
    let duration: MediaTime
    /// Start of segment k+1 (0-based k) on the presentation timeline.
    private(set) var boundaries: [MediaTime] = []

    init(duration: MediaTime) { self.duration = duration }

    /// Takes the segmenter's boundaries so far (only the new ones are copied).
    func record(_ all: [MediaTime]) {
        guard all.count > boundaries.count, boundaries.last.map({ $0 < duration }) ?? true else { return }
        boundaries += all[boundaries.count...]
    }

    /// Whether segment `index` (0-based) stays clear; a segment whose start is not known yet is not.
    func isClear(segment index: Int) -> Bool {
        guard duration.value > 0 else { return false }
        if index == 0 { return true }
        guard index - 1 < boundaries.count else { return false }
        return boundaries[index - 1] < duration
    }
}
