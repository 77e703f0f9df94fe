/// A signalled splice on the presentation timeline, as manifests list it: an ad break (out,
/// planned duration, in) or another SCTE-35 event, with the sections that signalled it. HLS
/// renders it as `EXT-X-DATERANGE` (and optionally `EXT-X-CUE-OUT`/`-CONT`/`-IN`), DASH as an
/// Event of the `urn:scte:scte35:2014:xml+bin` EventStream.
///
/// `start` and `end` are where segments start (the packager or live channel cut there, at the
/// signalled time or at the first keyframe after it); `signalledStart` is the time the
/// signal asked for. A marker announced again with the same `id` replaces the earlier one (a
/// live channel learns the in point when the break ends).
public struct SpliceMarker: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A break: leaves the network at `start`, returns at `end`.
        case `break`
        /// A signal that is not a break (time_signal with another segmentation type,
        /// splice_null, private commands): listed at `start` with its section (SCTE35-CMD).
        case command
    }

    /// The EXT-X-DATERANGE ID, unique in the presentation.
    public var id: String
    /// DASH Event@id: the splice or segmentation event id.
    public var eventID: UInt32
    public var kind: Kind
    public var start: MediaTime
    /// The time the signal asked for (equal to `start` unless the cut moved to a keyframe).
    public var signalledStart: MediaTime
    /// The planned duration (break_duration, segmentation_duration, or the cue list's).
    public var plannedDuration: MediaTime?
    /// Where the break ends (the return to the network), once known.
    public var end: MediaTime?
    /// The section that signalled the start (SCTE35-OUT, or SCTE35-CMD for a command).
    public var section: [UInt8]
    /// The section that signalled the return (SCTE35-IN), when there was one.
    public var returnSection: [UInt8]?

    public init(id: String, eventID: UInt32, kind: Kind = .break, start: MediaTime, signalledStart: MediaTime? = nil,
                plannedDuration: MediaTime? = nil, end: MediaTime? = nil, section: [UInt8], returnSection: [UInt8]? = nil) {
        self.id = id
        self.eventID = eventID
        self.kind = kind
        self.start = start
        self.signalledStart = signalledStart ?? start
        self.plannedDuration = plannedDuration
        self.end = end
        self.section = section
        self.returnSection = returnSection
    }

    /// The actual duration, once the end is known.
    public var duration: MediaTime? { end.map { $0 - start } }
}
