/// The result of validating one presentation.
public struct ValidationReport: Sendable, Codable {
    public var input: String
    /// "hls" or "dash".
    public var format: String
    /// Every playlist or MPD read.
    public var documents: [String]
    public var findings: [Finding]
    /// The text of each document read, for reports that show findings in context (not encoded).
    public var texts: [String: String] = [:]

    enum CodingKeys: String, CodingKey { case input, format, documents, findings }

    public init(input: String, format: String, documents: [String], findings: [Finding]) {
        self.input = input
        self.format = format
        self.documents = documents
        self.findings = findings
    }

    public var errors: Int { findings.filter { $0.severity == .error }.count }
    public var warnings: Int { findings.filter { $0.severity == .warning }.count }
    public var infos: Int { findings.filter { $0.severity == .info }.count }

    /// The report without the findings of the rules in `ignored` and those less severe than
    /// `minimum` (`--ignore`, `--severity`).
    public func filtered(ignoring ignored: Set<String>, minimum: Finding.Severity) -> ValidationReport {
        var report = self
        report.findings = findings.filter { !ignored.contains($0.rule) && $0.severity <= minimum }
        return report
    }
}
