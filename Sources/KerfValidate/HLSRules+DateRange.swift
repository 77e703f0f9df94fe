import KerfCore
import KerfManifest

/// EXT-X-DATERANGE (RFC 8216bis §4.4.5.1) and the EXT-X-CUE-OUT/-CONT/-IN ad markers older
/// server-side ad insertion reads, in a media playlist.
extension HLSRules {
    /// Where the EXT-X-CUE tags come from: no RFC defines them.
    static let cueReference = "SCTE 67 §14 (EXT-X-CUE-OUT/IN practice)"

    static func dateRanges(_ document: HLSDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int?, _ reference: String = "\(rfc) §4.4.5.1") {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line, reference: reference))
        }
        let ranges = document.tags("EXT-X-DATERANGE")
        if let first = ranges.first, document.tags("EXT-X-PROGRAM-DATE-TIME").isEmpty {
            add("hls.daterange-pdt", .error, "a playlist with EXT-X-DATERANGE needs an EXT-X-PROGRAM-DATE-TIME", line: first.line)
        }
        /// Each ID's attribute values as first given, with the line that gave them.
        var byID: [String: [String: (value: String, line: Int)]] = [:]
        // A tag that repeats an ID (an explicit return) may leave START-DATE to the one that has it.
        let dated = Set(ranges.compactMap { range in
            range.attributes.flatMap { $0[attribute: "START-DATE"] == nil ? nil : $0[attribute: "ID"]?.unquoted }
        })
        for range in ranges {
            guard let attributes = range.attributes else { continue }
            for problem in dateRangeProblems(attributes) where !(problem.rule == "hls.daterange-start"
                && attributes[attribute: "START-DATE"] == nil && attributes[attribute: "ID"].map({ dated.contains($0.unquoted) }) == true) {
                let reference = problem.rule == "hls.daterange-scte35" ? "\(rfc) §4.4.5.1.1"
                    : problem.rule == "hls.daterange-scte35-section" ? "\(rfc) §4.4.5.1.1, SCTE 35 §9" : "\(rfc) §4.4.5.1"
                add(problem.rule, problem.severity, problem.message, line: range.line, reference)
            }
            guard let id = attributes[attribute: "ID"]?.unquoted else { continue }
            for attribute in attributes {
                if let earlier = byID[id]?[attribute.name] {
                    if earlier.value != attribute.value {
                        add("hls.daterange-stable", .error,
                            "EXT-X-DATERANGE \(id) has \(attribute.name)=\(attribute.value) here and \(earlier.value) on line \(earlier.line)",
                            line: range.line)
                    }
                } else {
                    byID[id, default: [:]][attribute.name] = (attribute.value, range.line)
                }
            }
        }
        findings += cuePairing(document).map { Finding(rule: "hls.cue-pairing", severity: .warning, message: $0.message, file: file,
                                                        line: $0.line, reference: cueReference) }
        return findings
    }

    /// The problems of one EXT-X-DATERANGE's attributes, alone.
    static func dateRangeProblems(_ attributes: [HLSDocument.Attribute]) -> [(rule: String, severity: Finding.Severity, message: String)] {
        var problems: [(String, Finding.Severity, String)] = []
        if attributes[attribute: "ID"]?.isQuoted != true { problems.append(("hls.daterange-id", .error, "EXT-X-DATERANGE needs a quoted ID")) }
        let start = attributes[attribute: "START-DATE"].map { UTCTime.parseXSDateTime($0.unquoted) }
        switch start {
        case nil: problems.append(("hls.daterange-start", .error, "EXT-X-DATERANGE needs a START-DATE"))
        case .some(nil): problems.append(("hls.daterange-start", .error, "START-DATE \(attributes[attribute: "START-DATE"]!.value) is not an ISO 8601 date"))
        default: break
        }
        if let endText = attributes[attribute: "END-DATE"] {
            if let end = UTCTime.parseXSDateTime(endText.unquoted) {
                if let start = start ?? nil, end < start {
                    problems.append(("hls.daterange-end", .error, "END-DATE is before START-DATE"))
                }
            } else {
                problems.append(("hls.daterange-end", .error, "END-DATE \(endText.value) is not an ISO 8601 date"))
            }
        }
        for name in ["DURATION", "PLANNED-DURATION"] {
            guard let value = attributes[attribute: name]?.value else { continue }
            if value.wholeMatch(of: /[0-9]+(\.[0-9]*)?/) == nil {
                problems.append(("hls.daterange-duration", .error, "\(name) must be a non-negative decimal-floating-point, not \(value)"))
            }
        }
        if let endOnNext = attributes[attribute: "END-ON-NEXT"] {
            if endOnNext.value != "YES" {
                problems.append(("hls.daterange-end-on-next", .error, "END-ON-NEXT can only be YES"))
            }
            if attributes[attribute: "CLASS"] == nil {
                problems.append(("hls.daterange-end-on-next", .error, "END-ON-NEXT needs a CLASS"))
            }
            if attributes[attribute: "DURATION"] != nil || attributes[attribute: "END-DATE"] != nil {
                problems.append(("hls.daterange-end-on-next", .error, "END-ON-NEXT cannot go with DURATION or END-DATE"))
            }
        }
        for name in ["SCTE35-CMD", "SCTE35-OUT", "SCTE35-IN"] {
            guard let value = attributes[attribute: name]?.value else { continue }
            let hex = value.hasPrefix("0x") || value.hasPrefix("0X") ? String(value.dropFirst(2)) : ""
            guard !hex.isEmpty, hex.allSatisfy(\.isHexDigit), let bytes = Hex.bytes(hex.count % 2 == 0 ? hex : "0" + hex) else {
                problems.append(("hls.daterange-scte35", .error, "\(name) must be a hexadecimal-sequence (0x…)"))
                continue
            }
            do {
                _ = try SpliceInfoSection.parse(bytes)
            } catch {
                problems.append(("hls.daterange-scte35-section", .warning, "\(name) is not a splice_info_section: \(error.reason)"))
            }
        }
        return problems
    }

    /// EXT-X-CUE-OUT opens a break, EXT-X-CUE-OUT-CONT continues it, EXT-X-CUE-IN closes it. A
    /// window may start inside a break (CONT or IN first), so only what contradicts an earlier
    /// tag of the same playlist is reported.
    static func cuePairing(_ document: HLSDocument) -> [(line: Int, message: String)] {
        var open: Bool?  // nil until a tag tells
        var found: [(Int, String)] = []
        for line in document.lines {
            guard case .tag(let name, _, _) = line.content else { continue }
            switch name {
            case "EXT-X-CUE-OUT":
                if open == true { found.append((line.number, "EXT-X-CUE-OUT inside a break that has no EXT-X-CUE-IN yet")) }
                open = true
            case "EXT-X-CUE-OUT-CONT":
                if open == false { found.append((line.number, "EXT-X-CUE-OUT-CONT after the break's EXT-X-CUE-IN")) }
                open = true
            case "EXT-X-CUE-IN":
                if open == false { found.append((line.number, "EXT-X-CUE-IN without an EXT-X-CUE-OUT before it")) }
                open = false
            default:
                break
            }
        }
        return found
    }
}
