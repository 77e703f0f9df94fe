import KerfCore

/// A report as JUnit XML, the shape CI systems read (Jenkins' and Ant's junit-10.xsd): one
/// testsuite per playlist or MPD read, one testcase per rule of its format. A rule with error
/// findings fails (one `failure` per finding); warnings and information go to the testcase's
/// `system-out`; rules of `--deep` or `--live` that did not run are `skipped`.
public struct JUnitReport: Sendable {
    public var report: ValidationReport
    public var deep: Bool
    public var live: Bool

    public init(_ report: ValidationReport, deep: Bool = false, live: Bool = false) {
        self.report = report
        self.deep = deep
        self.live = live
    }

    /// The rules that apply to the report's format, and whether each ran.
    var rules: [(rule: Rule, ran: Bool, needs: String)] {
        let hls = report.format == "hls"
        let playlist = hls ? RuleCatalogue.hls + RuleCatalogue.hlsTags + RuleCatalogue.hlsSteering.filter { $0.id != "hls.steering-manifest" } : RuleCatalogue.dash + RuleCatalogue.dashPeriods
        let deepRules = (hls ? RuleCatalogue.hlsDeep : RuleCatalogue.dashDeep) + RuleCatalogue.protection(hls ? "hls" : "dash")
            + (hls ? RuleCatalogue.hlsSteering.filter { $0.id == "hls.steering-manifest" } : [])
        let liveRules = hls ? RuleCatalogue.hlsLive : RuleCatalogue.dashLive
        return playlist.map { ($0, true, "") } + deepRules.map { ($0, deep, "--deep") } + liveRules.map { ($0, live, "--live") }
    }

    public func render() -> String {
        var resources = report.documents
        for finding in report.findings where !resources.contains(finding.file) { resources.append(finding.file) }
        let rules = self.rules
        var suites = ""
        var totalTests = 0, totalFailures = 0, totalSkipped = 0
        for (index, resource) in resources.enumerated() {
            let findings = report.findings.filter { $0.file == resource }
            var cases = ""
            var failures = 0, skipped = 0
            // Findings of rules outside the format's list (none today) still get a testcase.
            let listed = Set(rules.map(\.rule.id))
            let extra = Set(findings.map(\.rule)).subtracting(listed).sorted().compactMap { RuleCatalogue.rule($0) }
            for (rule, ran, needs) in rules + extra.map({ ($0, true, "") }) {
                let mine = findings.filter { $0.rule == rule.id }
                cases += "    <testcase name=\"\(xml(rule.id))\" classname=\"\(xml(report.format)).\(xml(resource))\" time=\"0\">\n"
                let errors = mine.filter { $0.severity == .error }
                if !ran && mine.isEmpty {
                    skipped += 1
                    cases += "      <skipped message=\"needs \(needs)\"/>\n"
                }
                for finding in errors {
                    cases += "      <failure message=\"\(xml(finding.message))\" type=\"\(xml(finding.rule))\">\(xml(describe(finding)))</failure>\n"
                }
                if !errors.isEmpty { failures += 1 }
                let notes = mine.filter { $0.severity != .error }
                if !notes.isEmpty {
                    cases += "      <system-out>\(xml(notes.map { "\($0.severity.rawValue): \(describe($0))" }.joined(separator: "\n")))</system-out>\n"
                }
                cases += "    </testcase>\n"
            }
            let count = rules.count + extra.count
            totalTests += count; totalFailures += failures; totalSkipped += skipped
            suites += "  <testsuite name=\"\(xml(resource))\" id=\"\(index)\" package=\"kerf.validate.\(xml(report.format))\" tests=\"\(count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" time=\"0\">\n"
            suites += cases + "  </testsuite>\n"
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"kerf validate \(xml(report.input))\" tests=\"\(totalTests)\" failures=\"\(totalFailures)\" errors=\"0\" disabled=\"\(totalSkipped)\" time=\"0\">\n"
            + suites + "</testsuites>\n"
    }

    func describe(_ finding: Finding) -> String {
        var location = ""
        if let line = finding.line { location = "line \(line)" + (finding.column.map { ":\($0)" } ?? "") + ": " }
        if let path = finding.path { location = "\(path): " }
        return "\(location)\(finding.message) (\(finding.reference))"
    }

    /// Escaped for XML attributes and text; characters XML 1.0 cannot hold become U+FFFD.
    func xml(_ text: String) -> String {
        Markup.escaped(String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" || (0xFFFE...0xFFFF).contains(scalar.value) ? "\u{FFFD}" : scalar
        })))
    }
}
