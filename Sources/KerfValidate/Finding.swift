/// One problem the validator found, with a stable rule ID and where it is.
public struct Finding: Sendable, Hashable, Codable {
    public enum Severity: String, Sendable, Hashable, Codable, Comparable {
        /// A spec MUST, or something that breaks players.
        case error
        /// A SHOULD, or an authoring-specification recommendation.
        case warning
        case info

        var rank: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// Stable identifier, e.g. `hls.targetduration-too-small`.
    public var rule: String
    public var severity: Severity
    public var message: String
    /// The file or URL concerned.
    public var file: String
    /// 1-based line and column (HLS), when known.
    public var line: Int?
    public var column: Int?
    /// An XPath-like location (DASH), when known.
    public var path: String?
    /// The clause the rule comes from ("RFC 8216bis §4.4.3.1").
    public var reference: String

    public init(rule: String, severity: Severity, message: String, file: String, line: Int? = nil,
                column: Int? = nil, path: String? = nil, reference: String) {
        self.rule = rule
        self.severity = severity
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.reference = reference
    }
}

/// Seconds with three decimals ("6.006", "-0.040"), as findings print them.
func formatSeconds(_ seconds: Double) -> String {
    // Hostile inputs make absurd times: print those as they are rather than trap converting them.
    guard seconds.isFinite, abs(seconds) < 1e15 else { return "\(seconds)" }
    let millis = Int((seconds * 1000).rounded())
    let fraction = String(abs(millis) % 1000)
    let sign = millis < 0 && millis > -1000 ? "-" : ""
    return "\(sign)\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}
