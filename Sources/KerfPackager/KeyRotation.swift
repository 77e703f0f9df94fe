import KerfCore
import KerfCrypto

/// Key rotation for a live channel: the channel timeline is cut into key periods of
/// `segmentsPerPeriod` target durations, and each period has its own content key, derived from a
/// root key so that every origin with the same configuration uses the same keys:
///
///     KID(p) = HMAC-SHA256(root, "kerf kid <p>")[0..<16]
///     key(p) = HMAC-SHA256(root, "kerf key <p>")[0..<16]
///
/// where `p` is the period's index, `floor(segment start / period duration)` on the channel
/// timeline. One key protects every track of a period. IVs do not change with the period
/// (derived from the root key and the rendition), so a player that reads only `tenc` still
/// finds them.
public struct KeyRotation: Sendable, Equatable {
    public var rootKey: AES128Key
    public var segmentsPerPeriod: Int
    /// The channel's target segment duration.
    public var segmentDuration: MediaTime

    public init(rootKey: AES128Key, segmentsPerPeriod: Int, segmentDuration: MediaTime) {
        self.rootKey = rootKey
        self.segmentsPerPeriod = segmentsPerPeriod
        self.segmentDuration = segmentDuration
    }

    /// The key period a segment starting at `start` (channel timeline) belongs to.
    public func period(of start: MediaTime) -> Int64 {
        let length = MediaTime(value: segmentDuration.value * Int64(segmentsPerPeriod), timescale: segmentDuration.timescale)
        let ticks = start.rescaled(to: length.timescale, rounding: .down).value
        guard length.value > 0 else { return 0 }
        return ticks >= 0 ? ticks / length.value : (ticks - length.value + 1) / length.value
    }

    /// The content key of period `period`.
    public func key(period: Int64) -> ContentKey {
        let kid = HMACSHA256.authenticationCode(key: rootKey.bytes, message: Array("kerf kid \(period)".utf8)).prefix(16)
        let key = HMACSHA256.authenticationCode(key: rootKey.bytes, message: Array("kerf key \(period)".utf8)).prefix(16)
        // Both are 16 bytes by construction.
        return try! ContentKey(keyID: Array(kid), key: try! AES128Key(bytes: Array(key)))
    }

    /// A rendition's IV for every period: `cenc` the first 8 bytes, `cbcs` 16, of
    /// HMAC-SHA256(root, "kerf <scheme> iv <rendition>").
    public func iv(scheme: ProtectionScheme, rendition: String) -> [UInt8] {
        TrackEncryptor.derivedIV(scheme: scheme, keyBytes: rootKey.bytes, rendition: rendition)
    }
}

/// The encryptors of one track under key rotation: one per key period, made when the first
/// segment of the period is written, with the `pssh` boxes its fragments carry.
final class RotatingEncryptor {
    let rotation: KeyRotation
    private let make: (ContentKey) throws -> TrackEncryptor
    private let psshBoxes: (Int64) throws -> [UInt8]
    private var current: (period: Int64, encryptor: TrackEncryptor, pssh: [UInt8])?

    /// - Parameter psshBoxes: the `pssh` boxes of a period, by its index.
    init(rotation: KeyRotation, make: @escaping (ContentKey) throws -> TrackEncryptor, psshBoxes: @escaping (Int64) throws -> [UInt8]) {
        self.rotation = rotation
        self.make = make
        self.psshBoxes = psshBoxes
    }

    /// The encryptor and `pssh` boxes of the period a segment starting at `start` is in.
    func encryptor(forSegmentStart start: MediaTime) throws -> (encryptor: TrackEncryptor, pssh: [UInt8]) {
        let period = rotation.period(of: start)
        if let current, current.period == period { return (current.encryptor, current.pssh) }
        let key = rotation.key(period: period)
        let made = (period, try make(key), try psshBoxes(period))
        current = made
        return (made.1, made.2)
    }
}
