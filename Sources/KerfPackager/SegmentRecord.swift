import KerfCore

/// What was written for one media segment of one track: everything manifests need.
public struct SegmentRecord: Sendable, Hashable, Codable {
    /// 1-based segment number ($Number$).
    public var number: Int
    /// Path relative to the package root.
    public var path: String
    /// Earliest presentation time and duration, in the track's media timescale.
    public var start: MediaTime
    public var duration: MediaTime
    /// Size in bytes, and the byte offset inside its file (non-zero in single-file packages).
    public var size: Int
    public var offset: Int

    /// Bits per second over this segment.
    public var bitRate: Int {
        guard duration.value > 0 else { return 0 }
        return Int((Double(size) * 8 * Double(duration.timescale) / Double(duration.value)).rounded(.up))
    }
}

/// A keyframe addressable by byte range, for I-frame playlists: the fragment's `moof` through
/// the end of the keyframe's data.
public struct KeyframeRecord: Sendable, Hashable {
    public var path: String
    public var offset: Int
    public var length: Int
    /// Presentation time and the time to the next keyframe (or the end), in the media timescale.
    public var start: MediaTime
    public var duration: MediaTime
}
