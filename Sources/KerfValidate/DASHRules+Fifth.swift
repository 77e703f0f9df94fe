import KerfXML

/// Rules for elements the 5th edition added (the schema checks their shape, these what the
/// schema cannot): PatchLocation, ServiceDescription latency and playback rates, Preselection.
extension DASHRules {
    static func fifthEdition(_ mpd: XMLElement, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ path: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: path, reference: reference))
        }
        // MPD patches (§5.15) identify the MPD they patch by MPD@id and its publishTime.
        if !mpd.children(named: "PatchLocation").isEmpty {
            for required in ["id", "publishTime"] where mpd.attribute(required) == nil {
                add("dash.patch-location", .error, "an MPD with PatchLocation needs MPD@\(required), which its patches name", "/MPD", "\(iso) §5.15.2")
            }
            if mpd.attribute("type") != "dynamic" {
                add("dash.patch-location", .error, "PatchLocation is for dynamic MPDs; this one is static", "/MPD/PatchLocation[1]", "\(iso) §5.15.2")
            }
        }
        // Service descriptions (Annex K): min ≤ target ≤ max.
        for (d, description) in mpd.children(named: "ServiceDescription").enumerated() {
            for (name, lower, middle, upper) in [("Latency", "min", "target", "max"), ("PlaybackRate", "min", "", "max")] {
                for (e, element) in description.children(named: name).enumerated() {
                    let values = [lower, middle, upper].map { $0.isEmpty ? nil : element.attribute($0).flatMap(Double.init) }
                    let present = zip([lower, middle, upper], values).compactMap { pair in pair.1.map { (pair.0, $0) } }
                    for (a, b) in zip(present, present.dropFirst()) where a.1 > b.1 {
                        add("dash.service-description", .error, "\(name)@\(a.0) \(formatNumber(a.1)) is above @\(b.0) \(formatNumber(b.1))",
                            "/MPD/ServiceDescription[\(d + 1)]/\(name)[\(e + 1)]", "\(iso) Annex K")
                    }
                }
            }
        }
        // Preselections name AdaptationSets (or ContentComponents) of their Period (§5.3.11).
        for (p, period) in mpd.children(named: "Period").enumerated() {
            var ids = Set<String>()
            for set in period.children(named: "AdaptationSet") {
                if let id = set.attribute("id") { ids.insert(id) }
                for component in set.children(named: "ContentComponent") { if let id = component.attribute("id") { ids.insert(id) } }
            }
            for (s, preselection) in period.children(named: "Preselection").enumerated() {
                let components = (preselection.attribute("preselectionComponents") ?? "").split(separator: " ").map(String.init)
                for id in components where !ids.contains(id) {
                    add("dash.preselection-components", .error, "Preselection@preselectionComponents names \(id), no AdaptationSet or ContentComponent of the Period",
                        "/MPD/Period[\(p + 1)]/Preselection[\(s + 1)]", "\(iso) §5.3.11")
                }
            }
        }
        return findings
    }

    /// 3000, 1.5: a number as written, without a trailing ".0".
    static func formatNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
