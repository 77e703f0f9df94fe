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
        // Kerf writes EXTINF as decimal floating point (exact to the microsecond), which needs 3.
        var version = 3
        if iFramesOnly || segments.contains(where: { $0.byteRange != nil || $0.map?.byteRange != nil }) { version = max(version, 4) }
        if segments.contains(where: { $0.key?.keyFormat != nil || $0.key?.keyFormatVersions != nil || $0.key?.method == .sampleAES }) {
            version = max(version, 5)
        }
        if segments.contains(where: { $0.map != nil }) { version = max(version, iFramesOnly ? 5 : 6) }
        return version
    }
}
