import KerfCore

/// EXT-X-DATERANGE (RFC 8216bis §4.4.5.1): a range of time with attributes, here an SCTE-35
/// signal (§4.4.5.1.1) carrying its splice_info_section as hex.
public struct HLSDateRange: Sendable, Hashable, Codable {
    public var id: String
    /// ISO 8601 text.
    public var startDate: String
    public var duration: MediaTime?
    public var plannedDuration: MediaTime?
    /// The sections, as `0x`-prefixed hex.
    public var scte35Cmd: String?
    public var scte35Out: String?
    public var scte35In: String?

    public init(id: String, startDate: String, duration: MediaTime? = nil, plannedDuration: MediaTime? = nil,
                scte35Cmd: String? = nil, scte35Out: String? = nil, scte35In: String? = nil) {
        self.id = id
        self.startDate = startDate
        self.duration = duration
        self.plannedDuration = plannedDuration
        self.scte35Cmd = scte35Cmd
        self.scte35Out = scte35Out
        self.scte35In = scte35In
    }

    /// A section as an SCTE35-* attribute value.
    public static func hex(_ section: [UInt8]) -> String { "0x" + Hex.string(section).uppercased() }
}

/// The older ad-break tags many SSAI services read instead of (or with) EXT-X-DATERANGE:
/// `EXT-X-CUE-OUT:<duration>`, `EXT-X-CUE-OUT-CONT:ElapsedTime=…,Duration=…`, `EXT-X-CUE-IN`.
public enum HLSCueTag: Sendable, Hashable, Codable {
    case out(duration: MediaTime?)
    case outContinued(elapsed: MediaTime, duration: MediaTime?)
    case `in`

    public var line: String {
        switch self {
        case .out(let duration): return "#EXT-X-CUE-OUT" + (duration.map { ":" + hlsDecimal($0) } ?? "")
        case .outContinued(let elapsed, let duration):
            return "#EXT-X-CUE-OUT-CONT:ElapsedTime=\(hlsDecimal(elapsed))" + (duration.map { ",Duration=\(hlsDecimal($0))" } ?? "")
        case .in: return "#EXT-X-CUE-IN"
        }
    }
}
