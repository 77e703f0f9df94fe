import KerfCore

/// One partial segment of a live CMAF track (LL-HLS EXT-X-PART, an LL-DASH chunk): a fragment
/// (`moof` + `mdat`, the first one also the segment's `styp`) of the segment being written.
public struct PartRecord: Sendable, Hashable {
    /// The segment's index (0-based, as the segmenter counts) and presentation start.
    public var segment: Int
    public var segmentStart: MediaTime
    /// 0-based position in the segment.
    public var index: Int
    public var duration: MediaTime
    /// Starts with a sync sample (a video keyframe; every audio part).
    public var independent: Bool
}
