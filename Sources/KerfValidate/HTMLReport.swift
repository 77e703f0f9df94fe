import KerfCore
import KerfXML

/// A report as one self-contained HTML page (no scripts, no external resources), like Apple's
/// hlsreport: a summary, then the findings of each playlist, or of each Period of an MPD, with
/// the offending lines (HLS) or the element an XPath names and its ancestors (DASH) in context.
public struct HTMLReport: Sendable {
    public var report: ValidationReport

    public init(_ report: ValidationReport) { self.report = report }

    public func render() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>kerf validate: \(Markup.escaped(report.input))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:72em}
            h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.6em 0 .4em;word-break:break-all}
            h3{font-size:1em;margin:1em 0 .3em;color:#555}
            .summary span{display:inline-block;padding:.2em .7em;margin-right:.5em;border-radius:1em;font-weight:600}
            .summary .error{background:#fde2e1;color:#9b1c1c}.summary .warning{background:#fef3c7;color:#8a5300}.summary .info{background:#e0ecfb;color:#1e4d8c}.summary .ok{background:#dcfce7;color:#166534}
            .error .sev{color:#b91c1c}.warning .sev{color:#8a5300}.info .sev{color:#1e4d8c}
            .finding{border-left:4px solid #ccc;padding:.3em .8em;margin:.6em 0;background:#fafafa}
            .finding.error{border-color:#d33}.finding.warning{border-color:#d9a400}.finding.info{border-color:#3b82f6}
            .finding .sev{font-weight:700;text-transform:uppercase;font-size:.8em;margin-right:.6em}
            code,pre{font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace}
            pre{background:#fff;border:1px solid #e5e5e5;padding:.4em .6em;overflow-x:auto;margin:.4em 0 0}
            pre .hit{background:#fde2e1;display:block}pre .no{color:#999;user-select:none}
            .clause{color:#666;font-size:.9em}
            </style></head><body>
            <h1>kerf validate</h1>
            <p><code>\(Markup.escaped(report.input))</code> (\(report.format == "dash" ? "DASH MPD" : "HLS"))</p>
            <p class="summary"><span class="error">\(report.errors) error\(report.errors == 1 ? "" : "s")</span><span class="warning">\(report.warnings) warning\(report.warnings == 1 ? "" : "s")</span><span class="info">\(report.infos) information</span></p>

            """
        var resources = report.documents
        for finding in report.findings where !resources.contains(finding.file) { resources.append(finding.file) }
        for resource in resources {
            let findings = report.findings.filter { $0.file == resource }
            out += "<h2>\(Markup.escaped(resource)) " + (findings.isEmpty ? "<span class=\"summary\"><span class=\"ok\">ok</span></span>" : "") + "</h2>\n"
            let text = report.texts[resource]
            let tree = report.format == "dash" ? text.flatMap { try? XMLReader.read(Array($0.utf8), name: resource) } : nil
            let lines = report.format == "hls" ? text.map { $0.split(separator: "\n", omittingEmptySubsequences: false) } : nil
            for (group, members) in grouped(findings) {
                if let group { out += "<h3>\(Markup.escaped(group))</h3>\n" }
                for finding in members {
                    out += "<div class=\"finding \(finding.severity.rawValue)\"><span class=\"sev\">\(finding.severity.rawValue)</span>"
                    out += "<code>\(Markup.escaped(finding.rule))</code> \(Markup.escaped(finding.message)) <span class=\"clause\">(\(Markup.escaped(finding.reference)))</span>"
                    if let line = finding.line {
                        out += "<br><span class=\"clause\">line \(line)\(finding.column.map { ", column \($0)" } ?? "")</span>"
                        if let lines { out += excerpt(lines, line: line) }
                    }
                    if let path = finding.path {
                        out += "<br><code>\(Markup.escaped(path))</code>"
                        if let tree { out += context(tree, path: path) }
                    }
                    out += "</div>\n"
                }
            }
        }
        out += "<p class=\"clause\">Rules and their clauses: manifests/RULES.md (kerf validate --rules).</p>\n</body></html>\n"
        return out
    }

    /// Findings by Period for an MPD (the XPath's Period step), in one group for a playlist.
    func grouped(_ findings: [Finding]) -> [(String?, [Finding])] {
        guard report.format == "dash" else {
            return findings.isEmpty ? [] : [(nil, findings.sorted { ($0.line ?? 0, $0.severity) < ($1.line ?? 0, $1.severity) })]
        }
        var order: [String] = []
        var groups: [String: [Finding]] = [:]
        for finding in findings {
            let steps = (finding.path ?? "").split(separator: "/")
            let name = steps.count >= 2 && steps[1].hasPrefix("Period") ? "Period \(steps[1].dropFirst(6).filter(\.isNumber))" : "MPD"
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append(finding)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    /// Two lines either side of `line`, numbered, the line itself marked.
    func excerpt(_ lines: [Substring], line: Int) -> String {
        guard line >= 1, line <= lines.count else { return "" }
        var out = "<pre>"
        for number in max(1, line - 2)...min(lines.count, line + 2) {
            let text = "<span class=\"no\">\(String(number).leftPadded(to: 5)) </span>\(Markup.escaped(String(lines[number - 1].prefix(400))))"
            out += number == line ? "<span class=\"hit\">\(text)</span>" : text + "\n"
        }
        return out + "</pre>"
    }

    /// The start tags of the elements on an XPath (`/MPD/Period[1]/AdaptationSet[2]`), indented.
    func context(_ root: XMLElement, path: String) -> String {
        var chain: [XMLElement] = []
        var current: XMLElement? = nil
        for step in path.split(separator: "/") {
            let name = step.prefix { $0 != "[" && $0 != "@" }
            let index = Int(step.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }) ?? 1
            if let element = current {
                let matches = element.children.filter { $0.localName == name }
                guard index >= 1, index <= matches.count else { break }
                current = matches[index - 1]
            } else {
                guard root.localName == name else { break }
                current = root
            }
            if let current { chain.append(current) }
        }
        guard !chain.isEmpty else { return "" }
        var out = "<pre>"
        for (depth, element) in chain.enumerated() {
            let attributes = element.attributes.prefix(12).map { " \($0.name)=\"\($0.value.prefix(120))\"" }.joined()
            let tag = Markup.escaped("<\(element.name)\(attributes)\(element.attributes.count > 12 ? " …" : "")>")
            let line = String(repeating: "  ", count: depth) + tag
            out += depth == chain.count - 1 ? "<span class=\"hit\">\(line)</span>" : line + "\n"
        }
        return out + "</pre>"
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
