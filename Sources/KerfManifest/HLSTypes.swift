import KerfCore

/// Value types shared by HLS playlists (RFC 8216bis §4).
public struct ByteRange: Sendable, Hashable, Codable {
    public var length: Int
    /// Start offset; `nil` means "right after the previous range of the same resource".
    public var offset: Int?
    public init(length: Int, offset: Int?) { self.length = length; self.offset = offset }
    /// `length@offset` or `length`.
    public var attributeValue: String { offset.map { "\(length)@\($0)" } ?? "\(length)" }
}

/// EXT-X-KEY (§4.4.4.4).
public struct HLSKey: Sendable, Hashable, Codable {
    public enum Method: String, Sendable, Codable {
        case none = "NONE"
        case aes128 = "AES-128"
        case sampleAES = "SAMPLE-AES"
        /// Common Encryption `cenc` (AES-CTR) samples in fMP4.
        case sampleAESCTR = "SAMPLE-AES-CTR"
    }
    public var method: Method
    public var uri: String?
    /// `0x`-prefixed hex; `nil` means the IV is the media sequence number.
    public var iv: String?
    public var keyFormat: String?
    public var keyFormatVersions: String?
    /// KEYID: the Common Encryption key ID as `0x` and 32 hex digits.
    public var keyID: String?

    public init(method: Method, uri: String? = nil, iv: String? = nil, keyFormat: String? = nil,
                keyFormatVersions: String? = nil, keyID: String? = nil) {
        self.method = method
        self.uri = uri
        self.iv = iv
        self.keyFormat = keyFormat
        self.keyFormatVersions = keyFormatVersions
        self.keyID = keyID
    }
}

/// EXT-X-MAP (§4.4.4.5).
public struct HLSMap: Sendable, Hashable, Codable {
    public var uri: String
    public var byteRange: ByteRange?
    public init(uri: String, byteRange: ByteRange? = nil) { self.uri = uri; self.byteRange = byteRange }
}

/// One Media Segment of a Media Playlist, with the tags that apply to it.
public struct MediaSegment: Sendable, Hashable, Codable {
    public var uri: String
    /// Exact duration (EXTINF).
    public var duration: MediaTime
    public var title: String?
    public var byteRange: ByteRange?
    /// The keys that take effect at this segment (written before it): one EXT-X-KEY per
    /// KEYFORMAT for the same content key (§4.4.4.4).
    public var keys: [HLSKey] = []
    /// A Media Initialization Section that takes effect at this segment.
    public var map: HLSMap?
    public var discontinuity: Bool
    /// EXT-X-PROGRAM-DATE-TIME, ISO 8601 text.
    public var programDateTime: String?
    /// Its partial segments (LL-HLS EXT-X-PART), written before it.
    public var parts: [LowLatencyHLS.PartialSegment] = []
    /// EXT-X-DATERANGE tags written before it (after its EXT-X-PROGRAM-DATE-TIME).
    public var dateRanges: [HLSDateRange] = []
    /// EXT-X-CUE-OUT / -CONT / -IN written before it.
    public var cueTag: HLSCueTag?

    public init(uri: String, duration: MediaTime, byteRange: ByteRange? = nil) {
        self.uri = uri
        self.duration = duration
        self.byteRange = byteRange
        self.discontinuity = false
    }

    /// The key a client without a DRM system uses: the first with no KEYFORMAT or "identity"
    /// (else the first). Setting it replaces all of `keys`.
    public var key: HLSKey? {
        get { keys.first { $0.keyFormat == nil || $0.keyFormat == "identity" } ?? keys.first }
        set { keys = newValue.map { [$0] } ?? [] }
    }
}

/// HLS decimal-floating-point text for a duration: exact when the decimal expansion ends within
/// six places, else rounded to six; at least three places ("6.000", "2.08" → "2.080").
public func hlsDecimal(_ time: MediaTime) -> String {
    let micro = time.rescaled(to: 1_000_000, rounding: .nearest).value
    let sign = micro < 0 ? "-" : ""
    let magnitude = micro.magnitude
    var fraction = String(magnitude % 1_000_000)
    fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
    while fraction.count > 3 && fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(sign)\(magnitude / 1_000_000).\(fraction)"
}
