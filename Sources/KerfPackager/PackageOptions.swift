import KerfCore
import KerfManifest

/// What `kerf package` is asked to do.
public struct PackageOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// HLS over CMAF segments.
        case hls
        /// DASH over the same CMAF segments.
        case dash
        /// HLS over MPEG-TS segments (video and audio muxed per variant).
        case hlsTS = "hls-ts"
    }

    public var inputs: [String]
    public var output: String
    public var segmentDuration: MediaTime
    public var formats: Set<Format>
    /// DASH SegmentTemplate with `$Time$` instead of `$Number$` (segment files named by time).
    public var timeBasedNames: Bool
    public var force: Bool
    /// One fMP4 per track with a `sidx`: DASH on-demand profile and HLS byte ranges.
    public var singleFile: Bool = false
    /// Stream selection and per-stream overrides.
    public var selection = StreamSelection()
    /// HLS whole-segment AES-128 encryption (HLS outputs only).
    public var encryption: SegmentEncryption?
    /// Common Encryption (`cenc`/`cbcs`) of the CMAF segments (HLS and DASH); with `cbcs`, also
    /// Apple SAMPLE-AES of the MPEG-TS variants.
    public var commonEncryption: CommonEncryption?
    /// Splices asked for by a cue list (`--cues`), beside the SCTE-35 the inputs carry.
    public var cues: [CuePoint] = []
    /// The date of presentation time 0 (seconds since 1970), written as
    /// EXT-X-PROGRAM-DATE-TIME when the package lists splices (`--program-date-time`).
    public var programDateTime: Double = 0
    /// HLS splice tags (`--ad-markers`).
    public var adMarkers: Presentation.AdMarkers = [.dateRange]
    /// A DASH Period at each splice (`--cue-periods`).
    public var cuePeriods = false
    /// Where DASH carries splices (`--dash-events`): the MPD's EventStream, emsg in the video
    /// segments, or both.
    public var dashEvents: Presentation.DASHEvents = [.period]

    public init(inputs: [String], output: String) {
        self.inputs = inputs
        self.output = output
        self.segmentDuration = MediaTime(value: 6, timescale: 1)
        self.formats = [.hls, .dash]
        self.timeBasedNames = false
        self.force = false
    }
}
