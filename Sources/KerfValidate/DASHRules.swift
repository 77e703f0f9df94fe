import KerfCore
import KerfManifest
import KerfXML

/// Checks of a DASH MPD read as an element tree (ISO/IEC 23009-1, DASH-IF IOP).
enum DASHRules {
    static let iso = "ISO/IEC 23009-1"
    static let iop = "DASH-IF IOP"

    static func check(_ mpd: XMLElement, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ path: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: path, reference: reference))
        }
        guard mpd.localName == "MPD" else {
            add("dash.root", .error, "the root element is \(mpd.name), not MPD", "/\(mpd.name)", "\(iso) §5.3.1")
            return findings
        }
        if !mpd.attributes.contains(where: { ($0.name == "xmlns" || $0.name.hasPrefix("xmlns:")) && $0.value == MPDWriter.namespace }) {
            add("dash.namespace", .error, "MPD is not in the \(MPDWriter.namespace) namespace", "/MPD", "\(iso) §5.3.1")
        }
        for required in ["profiles", "minBufferTime"] where mpd.attribute(required) == nil {
            add("dash.mpd-attribute-missing", .error, "MPD@\(required) is required", "/MPD", "\(iso) §5.3.1.2")
        }
        let dynamic = mpd.attribute("type") == "dynamic"
        let periods = mpd.children(named: "Period")
        if periods.isEmpty { add("dash.period-missing", .error, "an MPD needs at least one Period", "/MPD", "\(iso) §5.3.1.2") }
        if dynamic {
            for required in ["availabilityStartTime", "publishTime"] where mpd.attribute(required) == nil {
                add("dash.dynamic-attribute-missing", .error, "a dynamic MPD needs MPD@\(required)", "/MPD", "\(iop) §4.3")
            }
            for recommended in ["minimumUpdatePeriod", "timeShiftBufferDepth"] where mpd.attribute(recommended) == nil {
                add("dash.dynamic-attribute-recommended", .warning,
                    "a dynamic MPD should carry MPD@\(recommended)\(recommended == "timeShiftBufferDepth" ? " (without it the time-shift buffer is infinite)" : "")",
                    "/MPD", "\(iop) §4.3")
            }
            if mpd.children(named: "UTCTiming").isEmpty {
                add("dash.utctiming-missing", .warning, "a dynamic MPD should carry UTCTiming", "/MPD", "\(iop) §4.7")
            }
        } else if mpd.attribute("mediaPresentationDuration") == nil && periods.last?.attribute("duration") == nil {
            add("dash.static-duration-missing", .error,
                "a static MPD needs MPD@mediaPresentationDuration or a duration on its last Period", "/MPD", "\(iso) §5.3.1.2")
        }
        for (p, period) in periods.enumerated() {
            let periodPath = "/MPD/Period[\(p + 1)]"
            var setIDs = Set<String>(), representationIDs = Set<String>()
            let sets = period.children(named: "AdaptationSet")
            for (a, set) in sets.enumerated() {
                let setPath = "\(periodPath)/AdaptationSet[\(a + 1)]"
                if let id = set.attribute("id"), !setIDs.insert(id).inserted {
                    add("dash.duplicate-id", .error, "AdaptationSet@id \(id) is used twice in the Period", setPath, "\(iso) §5.3.3.2")
                }
                let representations = set.children(named: "Representation")
                if representations.isEmpty && set.attribute("xlink:href") == nil {
                    add("dash.representation-missing", .error, "AdaptationSet has no Representation", setPath, "\(iso) §5.3.3.2")
                }
                for (r, representation) in representations.enumerated() {
                    let path = "\(setPath)/Representation[\(r + 1)]"
                    if let id = representation.attribute("id") {
                        if !representationIDs.insert(id).inserted {
                            // Allowed when the Representations are functionally identical, which cannot be checked here.
                            add("dash.duplicate-representation-id", .warning,
                                "Representation@id \(id) is used twice in the Period; only functionally identical Representations may share it",
                                path, "\(iso) §5.3.5.2")
                        }
                    } else {
                        add("dash.representation-attribute-missing", .error, "Representation@id is required", path, "\(iso) §5.3.5.2")
                    }
                    if representation.attribute("bandwidth") == nil {
                        add("dash.representation-attribute-missing", .error, "Representation@bandwidth is required", path, "\(iso) §5.3.5.2")
                    }
                    if representation.attribute("mimeType") == nil && set.attribute("mimeType") == nil {
                        add("dash.mimetype-missing", .error, "no mimeType on the Representation or its AdaptationSet", path, "\(iso) §5.3.7.2")
                    }
                    if representation.attribute("codecs") == nil && set.attribute("codecs") == nil
                        && !(set.attribute("mimeType") ?? representation.attribute("mimeType") ?? "").hasPrefix("text/") {
                        add("dash.codecs-missing", .warning, "no codecs on the Representation or its AdaptationSet", path, "\(iop) §3.2.13")
                    }
                    let template = representation.children(named: "SegmentTemplate").first
                        ?? set.children(named: "SegmentTemplate").first
                    if let template { findings += timeline(template, path: path, file: file) }
                    for level in [period, set, representation] {
                        if let number = level.children(named: "SegmentTemplate").first?.attribute("startNumber"), UInt32(number) == nil {
                            add("dash.start-number", .error, "SegmentTemplate@startNumber \(number) is not an unsigned integer", path, "\(iso) §5.3.9.2")
                        }
                    }
                }
            }
        }
        findings += periodRules(mpd, file: file)
        findings += events(mpd, file: file)
        findings += fifthEdition(mpd, file: file)
        return findings
    }

    /// Checks that need the resolved segments: profile constraints, timelines against Period
    /// durations, segmentAlignment claims.
    static func check(_ presentation: DASHPresentation, profiles: String, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ path: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: path, reference: reference))
        }
        let profileList = profiles.split(separator: ",").map { String($0.trimming(while: { $0 == " " })) }
        let live = "urn:mpeg:dash:profile:isoff-live:2011", onDemand = "urn:mpeg:dash:profile:isoff-on-demand:2011"
        for representation in presentation.representations {
            // Only when the MPD claims that profile alone: with several, another may apply. A
            // warning: even the standard's own examples stretch these constraints.
            if profileList == [live], representation.addressing == .base || representation.addressing == .list {
                add("dash.profile-constraint", .warning,
                    "the isoff-live profile addresses segments with SegmentTemplate, not \(representation.addressing == .base ? "SegmentBase" : "SegmentList") (Representation \(representation.id))",
                    representation.path, "\(iso) §8.4.2")
            }
            if profileList == [onDemand], representation.addressing == .timeline || representation.addressing == .duration || representation.addressing == .list {
                add("dash.profile-constraint", .warning,
                    "the isoff-on-demand profile addresses one indexed segment per Representation (SegmentBase), not a \(representation.addressing == .list ? "SegmentList" : "SegmentTemplate") (Representation \(representation.id))",
                    representation.path, "\(iso) §8.3.2")
            }
            guard representation.addressing == .timeline, presentation.type == "static",
                  let duration = representation.periodDuration, let last = representation.segments.last else { continue }
            let end = representation.start(last) + Double(last.duration) / Double(representation.timescale)
            let first = representation.start(representation.segments[0])
            let longest = Double(representation.segments.map(\.duration).max() ?? 0) / Double(representation.timescale)
            let periodEnd = representation.periodStart + duration
            var covers = "the SegmentTimeline of Representation \(representation.id) covers \(formatSeconds(first))–\(formatSeconds(end)) s, the Period \(formatSeconds(representation.periodStart))–\(formatSeconds(periodEnd)) s"
            if representation.firstTimeImplied && representation.presentationTimeOffset > 0 {
                covers += " (its first S has no @t, so it starts at media time 0, not at presentationTimeOffset \(representation.presentationTimeOffset))"
            }
            let timelinePath = representation.path + "/SegmentTemplate/SegmentTimeline"
            if end < periodEnd - longest - 0.001 || first > representation.periodStart + longest {
                // Media missing inside the Period stalls players; subtitles may be sparse (no
                // cues, no segment), which players read as no text.
                if representation.isText {
                    add("dash.timeline-sparse-text", .info, covers + ": no subtitles where it has no segments", timelinePath, "\(iso) §5.3.9.6, \(iop) §6.4")
                } else {
                    add("dash.timeline-period-duration", .error, covers, timelinePath, "\(iso) §5.3.9.6")
                }
            } else if end > periodEnd + longest + 0.001 {
                // Segments past the Period's end are not presented (the Period ends the
                // presentation of its Representations), so a longer timeline loses nothing.
                add("dash.timeline-beyond-period", .info, covers + ": segments after the Period's end are not played", timelinePath, "\(iso) §5.3.9.6, §7.2.1")
            }
        }
        // segmentAlignment="true": the same segment boundaries in every Representation of the set.
        let sets = Dictionary(grouping: presentation.representations.filter(\.segmentAlignment)) { "\($0.periodStart)/\($0.adaptationSet)" }
        for (_, members) in sets.sorted(by: { $0.key < $1.key }) where members.count > 1 {
            let reference = members[0]
            let starts = reference.segments.prefix(1000).map { reference.start($0) }
            for other in members.dropFirst() where !other.segments.isEmpty && !reference.segments.isEmpty {
                let tolerance = 0.5 / Double(max(reference.timescale, other.timescale)) + 1e-6
                let otherStarts = other.segments.prefix(1000).map { other.start($0) }
                if let index = zip(starts, otherStarts).enumerated().first(where: { abs($0.element.0 - $0.element.1) > tolerance })?.offset {
                    add("dash.segment-alignment", .error,
                        "segmentAlignment is true but segment \(index + 1) of Representation \(other.id) starts at \(formatSeconds(otherStarts[index])) s, in \(reference.id) at \(formatSeconds(starts[index])) s",
                        other.path, "\(iso) §5.3.3.2")
                }
            }
        }
        return findings
    }

    /// SegmentTimeline continuity (§5.3.9.6): no overlaps, no gaps, positive durations.
    static func timeline(_ template: XMLElement, path: String, file: String) -> [Finding] {
        guard let timeline = template.children(named: "SegmentTimeline").first else { return [] }
        var findings: [Finding] = []
        var expected: Int64? = nil
        for (index, s) in timeline.children(named: "S").enumerated() {
            let location = "\(path)/SegmentTemplate/SegmentTimeline/S[\(index + 1)]"
            guard let d = s.attribute("d").flatMap({ Int64($0) }), d > 0 else {
                findings.append(Finding(rule: "dash.timeline-duration", severity: .error, message: "S@d must be a positive integer",
                                        file: file, path: location, reference: "\(iso) §5.3.9.6"))
                return findings
            }
            let r = s.attribute("r").flatMap { Int64($0) } ?? 0
            let t = s.attribute("t").flatMap { Int64($0) } ?? expected ?? 0
            if let expected, t < expected {
                findings.append(Finding(rule: "dash.timeline-overlap", severity: .error,
                                        message: "S@t \(t) overlaps the previous segment, which ends at \(expected)",
                                        file: file, path: location, reference: "\(iso) §5.3.9.6"))
            } else if let expected, t > expected {
                findings.append(Finding(rule: "dash.timeline-gap", severity: .error,
                                        message: "S@t \(t) leaves a gap after the previous segment, which ends at \(expected)",
                                        file: file, path: location, reference: "\(iso) §5.3.9.6"))
            }
            guard r >= 0, r < 1_000_000_000 else { return findings }  // r=-1 (repeat to end) ends the check
            let (span, overflow) = d.multipliedReportingOverflow(by: r + 1)
            guard !overflow, t.addingReportingOverflow(span).overflow == false else { return findings }
            expected = t + span
        }
        return findings
    }
}
