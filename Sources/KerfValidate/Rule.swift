/// One check of the validator: its stable ID, the clause it comes from and the word of that
/// clause it enforces, which sets the severity of its findings (MUST → error, SHOULD → warning,
/// MAY or advice → info). The catalogue of every rule is `RuleCatalogue.all`.
public struct Rule: Sendable, Hashable, Codable {
    public enum Requirement: String, Sendable, Hashable, Codable {
        /// MUST, MUST NOT, REQUIRED, SHALL: a finding is an error.
        case must = "MUST"
        /// SHOULD, SHOULD NOT, RECOMMENDED: a finding is a warning.
        case should = "SHOULD"
        /// MAY, OPTIONAL, or advice (something not checked, a feature used): information.
        case advice = "MAY/advice"

        public var severity: Finding.Severity {
            switch self {
            case .must: .error
            case .should: .warning
            case .advice: .info
            }
        }
    }

    /// Stable identifier, e.g. `hls.targetduration-too-small`.
    public var id: String
    public var requirement: Requirement
    /// The clause the rule enforces ("RFC 8216bis §4.4.3.1").
    public var clause: String
    /// What the rule checks, in one sentence.
    public var summary: String

    public var severity: Finding.Severity { requirement.severity }

    public init(_ id: String, _ requirement: Requirement, _ clause: String, _ summary: String) {
        self.id = id
        self.requirement = requirement
        self.clause = clause
        self.summary = summary
    }
}
