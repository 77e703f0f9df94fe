import KerfCore

/// An HLS Media Playlist (RFC 8216bis §4.4.3): the list of Media Segments of one rendition.
public struct MediaPlaylist: Sendable, Hashable, Codable {
    public enum PlaylistType: String, Sendable, Codable { case vod = "VOD", event = "EVENT" }

    public var targetDuration: Int
    public var mediaSequence: UInt64
    public var discontinuitySequence: UInt64
    public var playlistType: PlaylistType?
    public var independentSegments: Bool
    public var iFramesOnly: Bool
    public var segments: [MediaSegment]
    public var endList: Bool
    /// Low-latency HLS tags of a live playlist (nil: none).
    public var lowLatency: LowLatencyHLS?

    /// How long the listed segments last together (their EXTINF durations), in seconds.
    public var seconds: Double { segments.reduce(0) { $0 + $1.duration.seconds } }

    public init(targetDuration: Int, segments: [MediaSegment] = []) {
        self.targetDuration = targetDuration
        self.mediaSequence = 0
        self.discontinuitySequence = 0
        self.independentSegments = false
        self.iFramesOnly = false
        self.segments = segments
        self.endList = false
    }

    /// EXT-X-TARGETDURATION for these segments: the longest EXTINF rounded to the nearest
    /// integer (§4.4.3.1), and never less than 1.
    public static func targetDuration(for durations: [MediaTime]) -> Int {
        let longest = durations.max() ?? .zero(timescale: 1)
        return max(1, Int(longest.rescaled(to: 1, rounding: .nearest).value))
    }

    /// The lowest EXT-X-VERSION the features used require (§7).
    public var requiredVersion: Int {
        // Kerf writes EXTINF as decimal floating point (exact to the microsecond).
        MediaPlaylist.requiredVersion(
            decimalDurations: true,
            byteRanges: segments.contains { $0.byteRange != nil || $0.map?.byteRange != nil },
            iFramesOnly: iFramesOnly,
            keyFormats: segments.contains { $0.keys.contains { $0.keyFormat != nil || $0.keyFormatVersions != nil || $0.method == .sampleAES } },
            maps: segments.contains { $0.map != nil },
            deltaUpdates: lowLatency?.skippedSegments != nil)
    }

    /// The lowest EXT-X-VERSION for the features a Media Playlist uses (RFC 8216bis §7), shared
    /// by the writer and the validator.
    /// - Parameters:
    ///   - decimalDurations: an EXTINF is written with a fraction (3).
    ///   - byteRanges: EXT-X-BYTERANGE or EXT-X-MAP BYTERANGE (4); `iFramesOnly` also needs 4.
    ///   - keyFormats: KEYFORMAT/KEYFORMATVERSIONS or METHOD=SAMPLE-AES (5).
    ///   - maps: EXT-X-MAP (6, or 5 in an I-frames-only playlist).
    ///   - deltaUpdates: EXT-X-SKIP (9).
    public static func requiredVersion(decimalDurations: Bool, byteRanges: Bool, iFramesOnly: Bool, keyFormats: Bool,
                                       maps: Bool, deltaUpdates: Bool) -> Int {
        var version = decimalDurations ? 3 : 1
        if byteRanges || iFramesOnly { version = max(version, 4) }
        if keyFormats { version = max(version, 5) }
        if maps { version = max(version, iFramesOnly ? 5 : 6) }
        if deltaUpdates { version = max(version, 9) }
        return version
    }
}
