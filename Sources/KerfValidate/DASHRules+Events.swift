import KerfCore
import KerfXML

/// Period EventStreams (ISO/IEC 23009-1 §5.10.2) and the SCTE-35 events ad insertion reads
/// from them (SCTE 214-1 §6.8, `urn:scte:scte35:2014:xml+bin`: a splice_info_section in
/// `scte35:Signal/scte35:Binary`, base64).
extension DASHRules {
    static let scte35Scheme = "urn:scte:scte35:2014:xml+bin"
    static let scte214 = "SCTE 214-1 §6.8"

    static func events(_ mpd: XMLElement, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ path: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: path, reference: reference))
        }
        for (p, period) in mpd.children(named: "Period").enumerated() {
            let duration = period.attribute("duration").flatMap(XSTime.duration)
            for (s, stream) in period.children(named: "EventStream").enumerated() {
                let path = "/MPD/Period[\(p + 1)]/EventStream[\(s + 1)]"
                let timescale = stream.attribute("timescale").flatMap { UInt64($0) } ?? 1
                guard timescale > 0 else {
                    add("dash.event-timescale", .error, "EventStream@timescale must be positive", path, "\(iso) §5.10.2.2")
                    continue
                }
                let offset = stream.attribute("presentationTimeOffset").flatMap { UInt64($0) } ?? 0
                var seen: [String: (index: Int, signature: String)] = [:]
                for (e, event) in stream.children(named: "Event").enumerated() {
                    let eventPath = "\(path)/Event[\(e + 1)]"
                    let time = event.attribute("presentationTime").flatMap { UInt64($0) } ?? 0
                    let start = (Double(time) - Double(offset)) / Double(timescale)
                    if start < 0 || (duration.map { start > $0 + 0.001 } ?? false) {
                        add("dash.event-outside-period", .warning,
                            "Event starts at \(formatSeconds(start)) s of its Period, outside it\(duration.map { " (\(formatSeconds($0)) s long)" } ?? "")",
                            eventPath, "\(iso) §5.10.2.1")
                    }
                    // Events of one stream with the same @id are the same event (same time, duration, content).
                    let signature = "\(time)|\(event.attribute("duration") ?? "")|\(describe(event))"
                    if let id = event.attribute("id") {
                        if let earlier = seen[id], earlier.signature != signature {
                            add("dash.event-id", .error, "Event@id \(id) is also the id of Event \(earlier.index + 1), a different event",
                                eventPath, "\(iso) §5.10.2.2")
                        } else if seen[id] == nil {
                            seen[id] = (e, signature)
                        }
                    }
                    guard stream.attribute("schemeIdUri") == scte35Scheme else { continue }
                    findings += scte35(event, path: eventPath, file: file)
                }
            }
        }
        return findings
    }

    /// An xml+bin SCTE-35 Event holds a Signal with a Binary: base64 of a splice_info_section.
    private static func scte35(_ event: XMLElement, path: String, file: String) -> [Finding] {
        func finding(_ message: String) -> [Finding] {
            [Finding(rule: "dash.scte35-binary", severity: .error, message: message, file: file, path: path, reference: scte214)]
        }
        let binaries = event.children(named: "Signal").flatMap { $0.children(named: "Binary") }
        guard let binary = binaries.first else { return finding("an Event of \(scte35Scheme) needs scte35:Signal/scte35:Binary") }
        guard let bytes = Base64.decode(binary.text ?? "") else { return finding("scte35:Binary is not base64") }
        do {
            _ = try SpliceInfoSection.parse(bytes)
        } catch {
            return finding("scte35:Binary is not a splice_info_section: \(error.reason)")
        }
        return []
    }

    /// An element's text and children, for comparing events.
    private static func describe(_ element: XMLElement) -> String {
        element.localName + "(" + (element.text ?? "") + element.children.map(describe).joined() + ")"
    }
}
