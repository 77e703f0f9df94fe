/// An SCTE-35 splice_info_section (ANSI/SCTE 35 §9.6): one splice command with its descriptors,
/// as it travels in an MPEG-TS PID, an HLS `SCTE35-OUT`/`-IN`/`-CMD` attribute (hex) and a DASH
/// `scte35:Binary` (base64). `parse` checks the CRC_32 and every length field; `encoded()`
/// writes the section back with its lengths and CRC_32 computed, so a parsed section that was
/// well formed encodes to the same bytes.
///
/// Times are 33-bit counts of a 90 kHz clock, as in the section; `spliceTime` applies
/// `ptsAdjustment`. Encrypted sections are refused (`Malformed.Code.encrypted`).
public struct SpliceInfoSection: Sendable, Hashable {
    /// table_id of every splice_info_section.
    public static let tableID: UInt8 = 0xfc
    /// Ticks per second of SCTE-35 times.
    public static let clockRate: Int64 = 90_000
    /// 2^33: PTS values wrap here.
    public static let ptsModulus: UInt64 = 1 << 33

    /// A section that cannot be read: what is wrong, and where.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Code: String, Sendable {
            case truncated, tableID, sectionLength, crcMismatch, encrypted, protocolVersion, invalidField
        }
        public var code: Code
        public var reason: String
        public init(_ code: Code, _ reason: String) {
            self.code = code
            self.reason = reason
        }
        public var description: String { reason }
    }

    /// protocol_version (0 in every published edition).
    public var protocolVersion: UInt8 = 0
    /// sap_type (2 bits; 3: unspecified).
    public var sapType: UInt8 = 3
    /// pts_adjustment: added (modulo 2^33) to every time in the command and descriptors.
    public var ptsAdjustment: UInt64 = 0
    public var cwIndex: UInt8 = 0
    /// tier (12 bits; 0xFFF: all tiers).
    public var tier: UInt16 = 0xfff
    public var command: SpliceCommand
    public var descriptors: [SpliceDescriptor] = []

    public init(command: SpliceCommand, descriptors: [SpliceDescriptor] = [], ptsAdjustment: UInt64 = 0) {
        self.command = command
        self.descriptors = descriptors
        self.ptsAdjustment = ptsAdjustment
    }

    /// The splice time after pts_adjustment (90 kHz, modulo 2^33): a splice_insert's
    /// program splice time or a time_signal's time; nil for splice_immediate, splice_null and
    /// commands without a time.
    public var spliceTime: UInt64? {
        let time: UInt64?
        switch command {
        case .insert(let insert): time = insert.spliceImmediate ? nil : insert.spliceTime
        case .timeSignal(let t): time = t
        default: time = nil
        }
        return time.map { ($0 + ptsAdjustment) % Self.ptsModulus }
    }

    /// The segmentation descriptors, in order.
    public var segmentationDescriptors: [SegmentationDescriptor] {
        descriptors.compactMap { if case .segmentation(let d) = $0 { d } else { nil } }
    }

    /// What the section signals for ad insertion.
    public enum Signal: Sendable, Hashable {
        /// Leaving the network feed (an avail or break starts): splice_insert with
        /// out_of_network_indicator, or a time_signal whose segmentation type starts a break,
        /// ad or placement opportunity.
        case out
        /// Returning to the network feed (the break ends).
        case `in`
        /// A cancellation of an earlier event.
        case cancel
        /// Anything else (splice_null, other segmentation types, private commands).
        case other
    }

    public var signal: Signal {
        switch command {
        case .insert(let insert):
            if insert.cancel { return .cancel }
            return insert.outOfNetwork ? .out : .in
        case .timeSignal:
            guard let descriptor = segmentationDescriptors.first else { return .other }
            if descriptor.cancel { return .cancel }
            if SegmentationDescriptor.startTypes.contains(descriptor.typeID) { return .out }
            if SegmentationDescriptor.endTypes.contains(descriptor.typeID) { return .in }
            return .other
        default:
            return .other
        }
    }

    /// The event's identifier: a splice_insert's splice_event_id, else the first segmentation
    /// descriptor's segmentation_event_id.
    public var eventID: UInt32? {
        if case .insert(let insert) = command { return insert.eventID }
        return segmentationDescriptors.first?.eventID
    }

    /// The planned duration in 90 kHz ticks: a splice_insert's break_duration, else the first
    /// segmentation descriptor's segmentation_duration.
    public var duration: UInt64? {
        if case .insert(let insert) = command, let duration = insert.breakDuration { return duration.duration }
        return segmentationDescriptors.first?.duration
    }

    /// A 33-bit splice time (90 kHz) as the time nearest to `reference` on a timeline that does
    /// not wrap (the demuxer's): the section's time unwrapped near its arrival.
    public static func unwrapped(_ ticks: UInt64, near reference: MediaTime) -> MediaTime {
        let modulus = Int64(ptsModulus), near = reference.rescaled(to: clockRate).value
        let difference = near - Int64(ticks) + modulus / 2
        let wraps = difference >= 0 ? difference / modulus : -((-difference + modulus - 1) / modulus)
        return MediaTime(value: Int64(ticks) + wraps * modulus, timescale: clockRate)
    }

    /// A 90 kHz count as media time.
    public static func mediaTime(_ ticks: UInt64) -> MediaTime { MediaTime(value: Int64(ticks), timescale: clockRate) }
}
