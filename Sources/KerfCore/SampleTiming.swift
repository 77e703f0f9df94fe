/// Timing of one encoded sample, without its bytes: what the segmenter decides on.
public struct SampleTiming: Sendable, Hashable {
    /// The packager's track number (not a container stream index).
    public var track: Int
    /// Presentation and decode time on the track's normalised timeline (0 = first sample).
    public var pts: MediaTime
    public var dts: MediaTime
    public var duration: MediaTime
    public var isKeyframe: Bool
    public var size: Int

    public init(track: Int, pts: MediaTime, dts: MediaTime, duration: MediaTime, isKeyframe: Bool, size: Int) {
        self.track = track
        self.pts = pts
        self.dts = dts
        self.duration = duration
        self.isKeyframe = isKeyframe
        self.size = size
    }
}
