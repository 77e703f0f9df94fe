import KerfCore
import KerfXML

/// Rules across Periods (order, ids, continuity and connectivity descriptors), for
/// availabilityTimeOffset, and for extensions the 5th edition's schema does not know (DASH-IF
/// Content Steering).
extension DASHRules {
    static let continuity = "urn:mpeg:dash:period-continuity:2015"
    static let connectivity = "urn:mpeg:dash:period-connectivity:2015"
    static let steering = "DASH-IF Content Steering v1.0"
    /// Elements in the MPD namespace from specifications later than the schema, and where from.
    static let extensionElements = ["ContentSteering": steering,
                                    "ClientDataReporting": "ISO/IEC 23009-1 6th edition (CTA-5004 client data reporting)"]

    static func periodRules(_ mpd: XMLElement, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ path: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: path, reference: reference))
        }
        let dynamic = mpd.attribute("type") == "dynamic"
        let periods = mpd.children(named: "Period")
        var ids: [String: Int] = [:]
        var previousEnd: Double? = 0
        var setIDs: [String: Set<String>] = [:]
        for (p, period) in periods.enumerated() {
            let path = "/MPD/Period[\(p + 1)]"
            if let id = period.attribute("id") {
                if ids[id] != nil {
                    add("dash.period-id", .error, "Period@id \(id) is also the id of Period \(ids[id]! + 1)", path, "\(iso) §5.3.2.2")
                } else {
                    ids[id] = p
                }
            } else if dynamic {
                add("dash.period-id", .error, "a Period of a dynamic MPD needs an id", path, "\(iso) §5.3.2.2")
            }
            let start = period.attribute("start").flatMap(XSTime.duration)
            if let start, let previousEnd, start < previousEnd - 0.001 {
                add("dash.period-order", .error,
                    "Period starts at \(formatSeconds(start)) s, before the previous Period ends (\(formatSeconds(previousEnd)) s)", path, "\(iso) §5.3.2.1")
            } else if let start, let previousEnd, p > 0, start > previousEnd + 0.001 {
                add("dash.period-gap", .warning,
                    "Period starts at \(formatSeconds(start)) s, \(formatSeconds(start - previousEnd)) s after the previous Period ends: nothing plays in between",
                    path, "\(iop) §3.2.12")
            }
            let begin = start ?? previousEnd
            previousEnd = period.attribute("duration").flatMap(XSTime.duration).flatMap { duration in begin.map { $0 + duration } }
            // Continuity and connectivity descriptors name an earlier Period holding an AdaptationSet with the same @id.
            var mine = Set<String>()
            for (a, set) in period.children(named: "AdaptationSet").enumerated() {
                if let id = set.attribute("id") { mine.insert(id) }
                for descriptor in set.children(named: "SupplementalProperty") + set.children(named: "EssentialProperty") {
                    guard let scheme = descriptor.attribute("schemeIdUri"), scheme == continuity || scheme == connectivity else { continue }
                    let setPath = "\(path)/AdaptationSet[\(a + 1)]"
                    let kind = scheme == continuity ? "period-continuity" : "period-connectivity"
                    guard let setID = set.attribute("id") else {
                        add("dash.period-continuity", .error, "an AdaptationSet with a \(kind) descriptor needs an @id", setPath, "\(iso) §5.3.2.4")
                        continue
                    }
                    for target in (descriptor.attribute("value") ?? "").split(separator: ",").map({ $0.trimming(while: { $0 == " " }) }) {
                        guard let index = ids[String(target)], index < p else {
                            add("dash.period-continuity", .error, "the \(kind) descriptor names Period \(target), which is not an earlier Period of the MPD",
                                setPath, "\(iso) §5.3.2.4")
                            continue
                        }
                        if !(setIDs[String(target)] ?? []).contains(setID) {
                            add("dash.period-continuity", .error,
                                "the \(kind) descriptor names Period \(target), which has no AdaptationSet with id \(setID)", setPath, "\(iso) §5.3.2.4, \(iop) §3.2.12")
                        }
                    }
                }
            }
            if let id = period.attribute("id") { setIDs[id] = mine }
        }
        findings += availabilityTimeOffsets(mpd, file: file)
        findings += contentSteering(mpd, file: file)
        return findings
    }

    /// @availabilityTimeOffset on BaseURL and segment information: a non-negative double or INF
    /// (§5.3.9.5.3), and no larger than the segments it brings forward.
    static func availabilityTimeOffsets(_ mpd: XMLElement, file: String) -> [Finding] {
        var findings: [Finding] = []
        func visit(_ element: XMLElement, _ path: String) {
            if let value = element.attribute("availabilityTimeOffset") {
                if value == "INF" {
                    // Every segment available at once: fine for a static MPD.
                } else if let offset = Double(value), offset >= 0, offset.isFinite {
                    let timescale = Double(element.attribute("timescale").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 1)
                    let durations = element.children(named: "SegmentTimeline").first?.children(named: "S").compactMap { $0.attribute("d").flatMap(Double.init) }
                        ?? element.attribute("duration").flatMap(Double.init).map { [$0] } ?? []
                    if let longest = durations.max(), offset > longest / timescale + 0.001 {
                        findings.append(Finding(rule: "dash.availability-time-offset-large", severity: .warning,
                                                message: "availabilityTimeOffset \(value) s is longer than the segments it applies to (\(formatSeconds(longest / timescale)) s): segments would be announced before their media exists",
                                                file: file, path: path, reference: "\(iso) §5.3.9.5.3, DASH-IF IOP Low-Latency Modes"))
                    }
                } else {
                    findings.append(Finding(rule: "dash.availability-time-offset", severity: .error,
                                            message: "availabilityTimeOffset \(value) is not a non-negative number or INF",
                                            file: file, path: path, reference: "\(iso) §5.3.9.5.3"))
                }
            }
            var counts: [String: Int] = [:]
            for child in element.children where ["Period", "AdaptationSet", "Representation", "SegmentTemplate", "SegmentBase", "SegmentList", "BaseURL"].contains(child.localName) {
                counts[child.localName, default: 0] += 1
                let step = ["Period", "AdaptationSet", "Representation"].contains(child.localName) ? "\(child.localName)[\(counts[child.localName]!)]" : child.localName
                visit(child, "\(path)/\(step)")
            }
        }
        visit(mpd, "/MPD")
        return findings
    }

    /// DASH-IF Content Steering: one ContentSteering element with the steering server's URL,
    /// whose defaultServiceLocation names BaseURL@serviceLocation values of the MPD.
    static func contentSteering(_ mpd: XMLElement, file: String) -> [Finding] {
        // At MPD level, or (as CMCD deployments and dash.js place it) in a ServiceDescription.
        let atMPD = mpd.children(named: "ContentSteering").enumerated().map { ($0.element, "/MPD/ContentSteering[\($0.offset + 1)]") }
        let inDescriptions = mpd.children(named: "ServiceDescription").enumerated().flatMap { d in
            d.element.children(named: "ContentSteering").enumerated().map {
                ($0.element, "/MPD/ServiceDescription[\(d.offset + 1)]/ContentSteering[\($0.offset + 1)]")
            }
        }
        let elements = atMPD + inDescriptions
        guard let (element, path) = elements.first else { return [] }
        var findings: [Finding] = []
        func add(_ message: String, _ path: String) {
            findings.append(Finding(rule: "dash.content-steering", severity: .error, message: message, file: file, path: path, reference: steering))
        }
        if atMPD.count > 1 { add("an MPD has at most one ContentSteering element, this one has \(atMPD.count)", atMPD[1].1) }
        let url = (element.text ?? "").trimming(while: { $0 == " " || $0 == "\n" || $0 == "\t" })
        if url.isEmpty { add("ContentSteering needs the steering server's URL as its content", path) }
        if let query = element.attribute("queryBeforeStart"), query != "true" && query != "false" {
            add("ContentSteering@queryBeforeStart is \(query), not true or false", path)
        }
        var locations = Set<String>()
        func collect(_ element: XMLElement) {
            for child in element.children {
                if child.localName == "BaseURL", let location = child.attribute("serviceLocation") { locations.insert(location) }
                collect(child)
            }
        }
        collect(mpd)
        for location in (element.attribute("defaultServiceLocation") ?? "").split(separator: " ") where !locations.contains(String(location)) {
            add("ContentSteering@defaultServiceLocation names \(location), which no BaseURL@serviceLocation of the MPD has", path)
        }
        return findings
    }
}
