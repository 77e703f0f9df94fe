import KerfManifest

/// Tag and attribute checks from the draft's tag table (`HLSTagTable`), for every playlist.
extension HLSRules {
    static func tagTable(_ document: HLSDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int, column: Int? = nil, _ section: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line, column: column,
                                    reference: "\(rfc) \(section)"))
        }
        var endList: Int?
        var sessionData = Set<String>()
        for line in document.lines {
            if let ended = endList, case .uri = line.content {
                add("hls.after-endlist", .warning, "a media segment follows EXT-X-ENDLIST (line \(ended)), which declares the playlist complete",
                    line: line.number, "§4.4.3.4")
                endList = nil  // once per playlist
            }
            guard case .tag(let name, let value, let attributes) = line.content, name != "EXTINF" else { continue }
            if name == "EXT-X-ENDLIST" { endList = line.number }
            if let version = HLSTagTable.removedTags[name] {
                let note = name == "EXT-X-ALLOW-CACHE" && value != "YES" && value != "NO" ? " (and its value \(value ?? "(none)") is not YES or NO)" : ""
                add("hls.removed-tag", .warning, "\(name) was removed in protocol version \(version); players ignore it\(note)", line: line.number, "§7")
                continue
            }
            if let (type, section) = HLSTagTable.valueTags[name] {
                if let type, !(value.map { HLSTagTable.conforms($0, to: type) } ?? false) {
                    add("hls.tag-value", .error, "\(name) must be \(type.name), not '\(value ?? "")'", line: line.number, section)
                } else if type == nil, let value {
                    add("hls.tag-value", .error, "\(name) takes no value, it has ':\(value)'", line: line.number, section)
                }
                continue
            }
            guard let spec = HLSTagTable.attributeTags[name], let attributes else { continue }
            var seen = Set<String>()
            for attribute in attributes {
                if !seen.insert(attribute.name).inserted {
                    add("hls.syntax", .error, "attribute \(attribute.name) appears twice in \(name)", line: line.number, column: attribute.column, "§4.2")
                }
                guard let type = spec.attributes[attribute.name] else {
                    if attribute.name == "PROGRAM-ID", name.hasSuffix("STREAM-INF") {
                        add("hls.removed-tag", .warning, "PROGRAM-ID of \(name) was removed in protocol version 6", line: line.number,
                            column: attribute.column, "§7")
                    } else {
                        add("hls.attribute-unknown", .info, "\(name) has no attribute \(attribute.name) in \(rfc); players ignore it",
                            line: line.number, column: attribute.column, spec.section)
                    }
                    continue
                }
                guard !HLSTagTable.conforms(attribute.value, to: type) else {
                    if let problem = HLSTagTable.formatProblem(attribute) {
                        add("hls.attribute-value", .error, "\(name) \(attribute.name)=\(attribute.value) \(problem)",
                            line: line.number, column: attribute.column, spec.section)
                    }
                    continue
                }
                switch type {
                case .enumerated, .quotedOr:
                    if !attribute.isQuoted && !attribute.value.contains("{$") {
                        add("hls.attribute-value", .error, "\(name) \(attribute.name)=\(attribute.value) is not \(type.name)",
                            line: line.number, column: attribute.column, spec.section)
                        continue
                    }
                default: break
                }
                // A quoted value where the type is unquoted (FORCED="NO", RESOLUTION="1x1") says so.
                let quoted = attribute.isQuoted && type != .quoted ? " (an unquoted value; it is quoted)" : ""
                add("hls.attribute-type", .error, "\(name) \(attribute.name)=\(attribute.value) is not \(type.name)\(quoted)",
                    line: line.number, column: attribute.column, "§4.2, \(spec.section)")
            }
            for required in spec.required where attributes[attribute: required] == nil {
                add("hls.attribute-missing", .error, "\(name) needs \(required)", line: line.number, spec.section)
            }
            if name == "EXT-X-SESSION-DATA" {
                if (attributes[attribute: "VALUE"] == nil) == (attributes[attribute: "URI"] == nil) {
                    add("hls.session-data", .error, "EXT-X-SESSION-DATA needs exactly one of VALUE and URI", line: line.number, spec.section)
                }
                let key = (attributes[attribute: "DATA-ID"]?.unquoted ?? "") + "\u{0}" + (attributes[attribute: "LANGUAGE"]?.unquoted ?? "")
                if !sessionData.insert(key).inserted {
                    add("hls.session-data", .error, "a second EXT-X-SESSION-DATA with the same DATA-ID and LANGUAGE", line: line.number, spec.section)
                }
            }
        }
        return findings
    }
}
