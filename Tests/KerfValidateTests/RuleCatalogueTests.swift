import Foundation
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// The rule catalogue against the sources: every rule ID the validator can emit has an entry
/// with the severity its clause's word gives, no entry is stale, and manifests/RULES.md is the
/// catalogue as generated.
@Suite(.tags(.unit)) struct RuleCatalogueTests {
    static let sources = Fixtures.root.appendingPathComponent("Sources/KerfValidate")

    /// (rule ID, severity written next to it, file) for every rule literal in the sources;
    /// protection notes (`rule: "pssh"`) stand for their `hls.` and `dash.` forms.
    static func emitted() throws -> [(id: String, severity: String?, file: String)] {
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path)
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("RuleCatalogue") }.sorted()
        #expect(files.count > 20)
        let literal = try Regex(#""((?:hls|dash)\.[a-z0-9-]+)"|(?:Note|\.init)\(rule: "([a-z0-9-]+)""#)
        let severity = try Regex(#"\.(error|warning|info)\b"#)
        var result: [(String, String?, String)] = []
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: literal) {
                let after = text[match.range.upperBound...].prefix(240)
                let written = after.firstMatch(of: severity).map { String(after[$0.range].dropFirst()) }
                if let id = match.output[1].substring {
                    result.append((String(id), written, file))
                } else if let note = match.output[2].substring {
                    result.append(("hls.\(note)", written, file))
                    result.append(("dash.\(note)", written, file))
                }
            }
        }
        return result
    }

    @Test func everyRuleInTheSourcesHasAnEntryWithItsSeverity() throws {
        let emitted = try Self.emitted()
        #expect(emitted.count > 100)
        for (id, severity, file) in emitted {
            let rule = RuleCatalogue.rule(id)
            #expect(rule != nil, "\(id) (\(file)) has no entry in RuleCatalogue")
            if let rule, let severity {
                #expect(rule.severity.rawValue == severity, "\(id) (\(file)) is emitted as \(severity), catalogued as \(rule.severity) (\(rule.requirement.rawValue))")
            }
        }
    }

    @Test func noEntryIsStaleOrRepeated() throws {
        let used = Set(try Self.emitted().map(\.id))
        #expect(Set(RuleCatalogue.all.map(\.id)).count == RuleCatalogue.all.count)
        for rule in RuleCatalogue.all {
            #expect(used.contains(rule.id), "\(rule.id) is catalogued but no source emits it")
            #expect(!rule.clause.isEmpty && !rule.summary.isEmpty)
            #expect(rule.id.wholeMatch(of: /(hls|dash)\.[a-z0-9-]+/) != nil)
        }
    }

    @Test func rulesMarkdownIsUpToDate() throws {
        let committed = try String(contentsOf: Fixtures.root.appendingPathComponent("manifests/RULES.md"), encoding: .utf8)
        #expect(committed == RuleCatalogue.markdown(), "manifests/RULES.md is stale: kerf validate --rules > manifests/RULES.md")
        for rule in RuleCatalogue.all { #expect(committed.contains("| `\(rule.id)` | \(rule.severity.rawValue) |")) }
    }

    @Test func ignoreAndSeverityFilterFindings() {
        let findings = [("hls.syntax", Finding.Severity.error), ("hls.codecs-missing", .warning), ("hls.segment-encrypted", .info)]
            .map { Finding(rule: $0.0, severity: $0.1, message: "", file: "f", reference: "r") }
        let report = ValidationReport(input: "f", format: "hls", documents: ["f"], findings: findings)
        #expect(report.filtered(ignoring: [], minimum: .info).findings.count == 3)
        #expect(report.filtered(ignoring: [], minimum: .warning).findings.map(\.rule) == ["hls.syntax", "hls.codecs-missing"])
        #expect(report.filtered(ignoring: [], minimum: .error).findings.map(\.rule) == ["hls.syntax"])
        #expect(report.filtered(ignoring: ["hls.syntax"], minimum: .info).errors == 0)
        #expect(RuleCatalogue.matching("hls.live-*").count == RuleCatalogue.hlsLive.count)
        #expect(RuleCatalogue.matching("hls.nonexistent").isEmpty)
    }
}
