import KerfCore
import KerfManifest

/// Checks of one HLS playlist on its own (RFC 8216bis, Apple HLS Authoring Specification).
enum HLSRules {
    static let rfc = "RFC 8216bis"
    static let apple = "Apple HLS Authoring Specification"

    static let mediaOnlyTags: Set<String> = [
        "EXTINF", "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE", "EXT-X-DISCONTINUITY-SEQUENCE", "EXT-X-ENDLIST",
        "EXT-X-PLAYLIST-TYPE", "EXT-X-I-FRAMES-ONLY", "EXT-X-BYTERANGE", "EXT-X-DISCONTINUITY", "EXT-X-KEY",
        "EXT-X-MAP", "EXT-X-PROGRAM-DATE-TIME", "EXT-X-GAP", "EXT-X-BITRATE", "EXT-X-PART", "EXT-X-PART-INF",
        "EXT-X-SERVER-CONTROL", "EXT-X-SKIP", "EXT-X-PRELOAD-HINT", "EXT-X-RENDITION-REPORT",
    ]
    static let multivariantOnlyTags: Set<String> = [
        "EXT-X-MEDIA", "EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-SESSION-DATA", "EXT-X-SESSION-KEY",
        "EXT-X-CONTENT-STEERING",
    ]

    /// Checks that apply to every playlist.
    static func common(_ document: HLSDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int?, column: Int? = nil, _ section: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line, column: column,
                                    reference: "\(rfc) \(section)"))
        }
        let first = document.lines.first { $0.content != .blank }
        if first?.number != 1 || first?.content != .tag(name: "EXTM3U", value: nil, attributes: nil) {
            add("hls.extm3u-first", .error, "the first line must be #EXTM3U", line: 1, "§4.4.1.1")
        }
        for issue in document.issues {
            let rule = issue.message.contains("UTF-8") || issue.message.contains("byte order mark") ? "hls.encoding" : "hls.syntax"
            add(rule, .error, issue.message, line: issue.line, column: issue.column, rule == "hls.encoding" ? "§4.1" : "§4.2")
        }
        var media = false, multivariant = false
        for line in document.lines {
            guard case .tag(let name, _, _) = line.content else { continue }
            if mediaOnlyTags.contains(name) { media = true }
            if multivariantOnlyTags.contains(name) { multivariant = true }
        }
        if media && multivariant {
            add("hls.mixed-playlist", .error, "media playlist tags and multivariant playlist tags in one playlist", line: nil, "§4.1")
        }
        findings += tagTable(document, file: file)
        let versions = document.tags("EXT-X-VERSION")
        if versions.count > 1 {
            add("hls.version-repeated", .error, "EXT-X-VERSION appears \(versions.count) times", line: versions[1].line, "§4.4.1.2")
        }
        return findings
    }

    /// Checks of a Media Playlist.
    static func media(_ document: HLSDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int?, _ section: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line,
                                    reference: "\(rfc) \(section)"))
        }
        let targets = document.tags("EXT-X-TARGETDURATION")
        let target = targets.first.flatMap { $0.value.flatMap { Int($0) } }
        if targets.isEmpty {
            add("hls.targetduration-missing", .error, "EXT-X-TARGETDURATION is required", line: nil, "§4.4.3.1")
        } else if target == nil {
            add("hls.syntax", .error, "EXT-X-TARGETDURATION is not a decimal-integer", line: targets[0].line, "§4.4.3.1")
        }
        // EXTINF followed by a URI; URIs preceded by EXTINF.
        var pendingInfo: Int? = nil
        var usesDecimal = false, usesByteRange = false, usesMap = false, keyFormat = false
        let iFramesOnly = !document.tags("EXT-X-I-FRAMES-ONLY").isEmpty
        for line in document.lines {
            switch line.content {
            case .tag("EXTINF", let value, _):
                if pendingInfo != nil { add("hls.extinf-without-uri", .error, "EXTINF not followed by a URI", line: pendingInfo, "§4.4.4.1") }
                pendingInfo = line.number
                let durationText = (value ?? "").split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                guard let duration = HLSDocument.decimal(durationText) else {
                    add("hls.syntax", .error, "EXTINF duration '\(durationText)' is not a decimal number", line: line.number, "§4.4.4.1")
                    continue
                }
                if durationText.contains(".") { usesDecimal = true }
                if let target, duration.rescaled(to: 1, rounding: .nearest).value > Int64(target) {
                    add("hls.targetduration-too-small", .error,
                        "EXTINF \(durationText) rounds to more than EXT-X-TARGETDURATION \(target)", line: line.number, "§4.4.3.1")
                }
            case .tag("EXT-X-BYTERANGE", _, _):
                usesByteRange = true
            case .tag("EXT-X-MAP", _, let attributes):
                usesMap = true
                if attributes?[attribute: "BYTERANGE"] != nil { usesByteRange = true }
                if let attributes, attributes[attribute: "URI"] == nil {
                    add("hls.map-uri-missing", .error, "EXT-X-MAP needs a URI", line: line.number, "§4.4.4.5")
                }
            case .tag("EXT-X-KEY", _, let attributes?):
                findings += key(attributes, line: line.number, file: file)
                if attributes[attribute: "KEYFORMAT"] != nil || attributes[attribute: "KEYFORMATVERSIONS"] != nil
                    || attributes[attribute: "METHOD"]?.value == "SAMPLE-AES" { keyFormat = true }
            case .uri:
                if pendingInfo == nil { add("hls.uri-without-extinf", .error, "URI line without a preceding EXTINF", line: line.number, "§4.4.4.1") }
                pendingInfo = nil
            default:
                break
            }
        }
        if let pendingInfo { add("hls.extinf-without-uri", .error, "EXTINF not followed by a URI", line: pendingInfo, "§4.4.4.1") }
        let featureVersion = MediaPlaylist.requiredVersion(decimalDurations: usesDecimal, byteRanges: usesByteRange,
                                                   iFramesOnly: iFramesOnly, keyFormats: keyFormat, maps: usesMap,
                                                   deltaUpdates: !document.tags("EXT-X-SKIP").isEmpty)
        // A malformed value (" 10") is hls.tag-value; the version it means still counts here.
        let declared = document.tags("EXT-X-VERSION").first.flatMap { $0.value.flatMap { Int($0.trimming(while: \.isWhitespace)) } } ?? 1
        let needed = max(featureVersion, document.tags("EXT-X-DEFINE").isEmpty ? 1 : 8)  // variable substitution: version 8 (§7)
        if declared < needed {
            add("hls.version-too-low", .error, "features used need EXT-X-VERSION \(needed), the playlist declares \(declared)",
                line: document.tags("EXT-X-VERSION").first?.line, "§7")
        }
        findings += placement(document, file: file)
        findings += lowLatency(document, file: file, target: target)
        findings += dateRanges(document, file: file)
        if document.tags("EXT-X-PLAYLIST-TYPE").first?.value == "VOD" && document.tags("EXT-X-ENDLIST").isEmpty {
            add("hls.vod-without-endlist", .warning, "a VOD playlist should end with EXT-X-ENDLIST", line: nil, "§4.4.3.5")
        }
        return findings
    }

    /// Tags that must come before the first segment, appear once, or continue a byte range.
    static func placement(_ document: HLSDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ message: String, line: Int, _ section: String) {
            findings.append(Finding(rule: rule, severity: .error, message: message, file: file, line: line,
                                    reference: "\(rfc) \(section)"))
        }
        let firstSegment = document.lines.first { if case .tag("EXTINF", _, _) = $0.content { return true }; return false }?.number
        for (name, section) in [("EXT-X-MEDIA-SEQUENCE", "§4.4.3.2"), ("EXT-X-DISCONTINUITY-SEQUENCE", "§4.4.3.3"),
                                ("EXT-X-TARGETDURATION", "§4.4.3.1"), ("EXT-X-PLAYLIST-TYPE", "§4.4.3.5")] {
            let tags = document.tags(name)
            if let firstSegment, let late = tags.first(where: { $0.line > firstSegment }) {
                add("hls.tag-placement", "\(name) must appear before the first Media Segment", line: late.line, section)
            }
            if tags.count > 1 { add("hls.tag-repeated", "\(name) appears \(tags.count) times", line: tags[1].line, section) }
        }
        // EXT-X-BYTERANGE without an offset continues the previous range of the same resource.
        var previousURI: String?
        var pendingRange: (line: Int, hasOffset: Bool)?
        for line in document.lines {
            switch line.content {
            case .tag("EXT-X-BYTERANGE", let value, _):
                pendingRange = (line.number, value?.contains("@") == true)
            case .uri(let uri):
                if let range = pendingRange, !range.hasOffset, previousURI != uri {
                    add("hls.byterange-offset", "EXT-X-BYTERANGE without an offset must follow a range of the same resource",
                        line: range.line, "§4.4.4.2")
                }
                previousURI = pendingRange == nil ? nil : uri
                pendingRange = nil
            default: break
            }
        }
        return findings
    }

    /// Low-latency HLS (§4.4.3.7–4.4.5.3): parts, hold-backs, skipping, preload hints.
    static func lowLatency(_ document: HLSDocument, file: String, target: Int?) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int?, _ section: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line,
                                    reference: "\(rfc) \(section)"))
        }
        let partInf = document.tags("EXT-X-PART-INF").first
        let partTarget = partInf?.attributes?[attribute: "PART-TARGET"].flatMap { HLSDocument.decimal($0.value) }
        let parts = document.tags("EXT-X-PART")
        if !parts.isEmpty && partInf == nil {
            add("hls.part-inf-missing", .error, "EXT-X-PART needs EXT-X-PART-INF in the playlist", line: parts[0].line, "§4.4.3.7")
        }
        if partInf != nil && partTarget == nil {
            add("hls.part-inf-missing", .error, "EXT-X-PART-INF needs a decimal PART-TARGET", line: partInf?.line, "§4.4.3.7")
        }
        for part in parts {
            guard let attributes = part.attributes else { continue }
            if attributes[attribute: "URI"] == nil || attributes[attribute: "DURATION"] == nil {
                add("hls.part-attribute-missing", .error, "EXT-X-PART needs URI and DURATION", line: part.line, "§4.4.4.9")
            }
            if let partTarget, let duration = attributes[attribute: "DURATION"].flatMap({ HLSDocument.decimal($0.value) }),
               duration > partTarget {
                add("hls.part-duration", .error, "part DURATION \(attributes[attribute: "DURATION"]!.value) exceeds PART-TARGET",
                    line: part.line, "§4.4.4.9")
            }
        }
        if let control = document.tags("EXT-X-SERVER-CONTROL").first, let attributes = control.attributes {
            func seconds(_ name: String) -> Double? { attributes[attribute: name].flatMap { HLSDocument.decimal($0.value)?.seconds } }
            if let hold = seconds("PART-HOLD-BACK"), let partTarget {
                if hold < 2 * partTarget.seconds {
                    add("hls.part-hold-back", .error, "PART-HOLD-BACK \(hold) is less than twice PART-TARGET", line: control.line, "§4.4.3.8")
                } else if hold < 3 * partTarget.seconds {
                    add("hls.part-hold-back-short", .warning, "PART-HOLD-BACK \(hold) should be at least three times PART-TARGET",
                        line: control.line, "§4.4.3.8")
                }
            } else if partInf != nil && seconds("PART-HOLD-BACK") == nil {
                add("hls.part-hold-back", .error, "a playlist with parts needs PART-HOLD-BACK in EXT-X-SERVER-CONTROL",
                    line: control.line, "§4.4.3.8")
            }
            if let hold = seconds("HOLD-BACK"), let target, hold < 3 * Double(target) {
                add("hls.hold-back", .error, "HOLD-BACK \(hold) is less than three target durations", line: control.line, "§4.4.3.8")
            }
            if let skip = seconds("CAN-SKIP-UNTIL"), let target, skip < 6 * Double(target) {
                add("hls.can-skip-until", .error, "CAN-SKIP-UNTIL \(skip) is less than six target durations", line: control.line, "§4.4.3.8")
            }
        } else if partInf != nil {
            add("hls.part-hold-back", .error, "a playlist with parts needs EXT-X-SERVER-CONTROL with PART-HOLD-BACK",
                line: partInf?.line, "§4.4.3.8")
        }
        let hints = document.tags("EXT-X-PRELOAD-HINT")
        for hint in hints {
            guard let attributes = hint.attributes else { continue }
            if attributes[attribute: "TYPE"].map({ ["PART", "MAP"].contains($0.value) }) != true || attributes[attribute: "URI"] == nil {
                add("hls.preload-hint", .error, "EXT-X-PRELOAD-HINT needs TYPE=PART or MAP and a URI", line: hint.line, "§4.4.5.3")
            }
        }
        if hints.count > 2 {
            add("hls.preload-hint", .error, "more than one EXT-X-PRELOAD-HINT of a TYPE", line: hints[2].line, "§4.4.5.3")
        }
        return findings
    }

    /// EXT-X-KEY attribute rules (§4.4.4.4).
    static func key(_ attributes: [HLSDocument.Attribute], line: Int, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ message: String) {
            findings.append(Finding(rule: rule, severity: .error, message: message, file: file, line: line,
                                    reference: "\(rfc) §4.4.4.4"))
        }
        guard let method = attributes[attribute: "METHOD"]?.value else {
            add("hls.key-method", "EXT-X-KEY needs METHOD")
            return findings
        }
        switch method {
        case "NONE":
            if attributes.count > 1 { add("hls.key-none-attributes", "METHOD=NONE must have no other attributes") }
        case "AES-128", "AES-256", "AES-256-CTR", "SAMPLE-AES", "SAMPLE-AES-CTR":
            if attributes[attribute: "URI"] == nil { add("hls.key-uri-missing", "METHOD=\(method) needs a URI") }
        default:
            add("hls.key-method", "unknown METHOD \(method)")
        }
        if let iv = attributes[attribute: "IV"]?.value {
            let hex = iv.hasPrefix("0x") || iv.hasPrefix("0X") ? iv.dropFirst(2) : Substring("")
            if hex.count != 32 || !hex.allSatisfy(\.isHexDigit) {
                add("hls.key-iv", "IV must be a 128-bit hexadecimal-sequence (0x and 32 hex digits)")
            }
        }
        return findings
    }

    /// Checks of a Multivariant Playlist.
    static func multivariant(_ document: HLSDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int?, reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line, reference: reference))
        }
        var groups: [String: [(line: Int, attributes: [HLSDocument.Attribute])]] = [:]
        for media in document.tags("EXT-X-MEDIA") {
            guard let attributes = media.attributes else { continue }
            for required in ["TYPE", "GROUP-ID", "NAME"] where attributes[attribute: required] == nil {
                add("hls.media-attribute-missing", .error, "EXT-X-MEDIA needs \(required)", line: media.line, reference: "\(rfc) §4.4.6.1")
            }
            if let type = attributes[attribute: "TYPE"]?.value, let group = attributes[attribute: "GROUP-ID"]?.unquoted {
                groups["\(type)|\(group)", default: []].append((media.line, attributes))
            }
            if let problem = closedCaptionProblem(attributes) {
                add("hls.instream-id", .error, problem, line: media.line, reference: "\(rfc) §4.4.6.1")
            }
        }
        let captionValues = document.tags("EXT-X-STREAM-INF").map { $0.attributes?[attribute: "CLOSED-CAPTIONS"] }
        if let none = document.tags("EXT-X-STREAM-INF").first(where: { $0.attributes?[attribute: "CLOSED-CAPTIONS"]?.value == "NONE" }),
           captionValues.contains(where: { $0?.value != "NONE" }) {
            add("hls.closed-captions-none", .error, "CLOSED-CAPTIONS=NONE on one EXT-X-STREAM-INF but not on all of them",
                line: none.line, reference: "\(rfc) §4.4.6.2")
        }
        for (key, members) in groups.sorted(by: { $0.key < $1.key }) {
            let defaults = members.filter { $0.attributes[attribute: "DEFAULT"]?.value == "YES" }
            if defaults.count > 1 {
                add("hls.group-default", .error, "group \(key.split(separator: "|")[1]) has \(defaults.count) renditions with DEFAULT=YES",
                    line: defaults[1].line, reference: "\(rfc) §4.4.6.1.1")
            }
            var names = Set<String>()
            for member in members {
                let name = member.attributes[attribute: "NAME"]?.unquoted ?? ""
                if !names.insert(name).inserted {
                    add("hls.group-name-unique", .error, "NAME \"\(name)\" is used twice in group \(key.split(separator: "|")[1])",
                        line: member.line, reference: "\(rfc) §4.4.6.1.1")
                }
            }
        }
        var pending: (line: Int, attributes: [HLSDocument.Attribute])? = nil
        for line in document.lines {
            switch line.content {
            case .tag("EXT-X-STREAM-INF", _, let attributes):
                pending = (line.number, attributes ?? [])
            case .tag("EXT-X-I-FRAME-STREAM-INF", _, let attributes?):
                findings += variant(attributes, line: line.number, file: file, groups: groups, iFrame: true)
            case .uri:
                if let current = pending {
                    findings += variant(current.attributes, line: current.line, file: file, groups: groups, iFrame: false)
                    pending = nil
                }
            default:
                break
            }
        }
        if let pending {
            add("hls.stream-inf-without-uri", .error, "EXT-X-STREAM-INF not followed by a URI", line: pending.line, reference: "\(rfc) §4.4.6.2")
        }
        return findings
    }

    /// INSTREAM-ID is required with TYPE=CLOSED-CAPTIONS (CC1–CC4, SERVICE1–SERVICE63) and
    /// forbidden with other types; a CLOSED-CAPTIONS rendition has no URI.
    static func closedCaptionProblem(_ attributes: [HLSDocument.Attribute]) -> String? {
        let id = attributes[attribute: "INSTREAM-ID"]?.unquoted
        guard attributes[attribute: "TYPE"]?.value == "CLOSED-CAPTIONS" else {
            return id == nil ? nil : "INSTREAM-ID is only for TYPE=CLOSED-CAPTIONS"
        }
        guard let id else { return "TYPE=CLOSED-CAPTIONS needs an INSTREAM-ID" }
        if !ClosedCaptions.isInstreamID(id) { return "INSTREAM-ID \"\(id)\" is not CC1–CC4 or SERVICE1–SERVICE63" }
        return attributes[attribute: "URI"] == nil ? nil : "TYPE=CLOSED-CAPTIONS must not have a URI"
    }

    static func variant(_ attributes: [HLSDocument.Attribute], line: Int, file: String,
                        groups: [String: [(line: Int, attributes: [HLSDocument.Attribute])]], iFrame: Bool) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line, reference: reference))
        }
        let tag = iFrame ? "EXT-X-I-FRAME-STREAM-INF" : "EXT-X-STREAM-INF"
        if attributes[attribute: "BANDWIDTH"].flatMap({ Int($0.value) }) == nil {
            add("hls.bandwidth-missing", .error, "\(tag) needs a decimal-integer BANDWIDTH", "\(rfc) §4.4.6.2")
        }
        if iFrame && attributes[attribute: "URI"] == nil {
            add("hls.iframe-uri-missing", .error, "EXT-X-I-FRAME-STREAM-INF needs a URI", "\(rfc) §4.4.6.3")
        }
        if attributes[attribute: "CODECS"] == nil {
            add("hls.codecs-missing", .warning, "\(tag) should declare CODECS", "\(apple) §1.4")
        }
        let audioOnly = (attributes[attribute: "CODECS"]?.unquoted ?? "").split(separator: ",")
            .allSatisfy { $0.hasPrefix("mp4a") || $0.hasPrefix("ac-3") || $0.hasPrefix("ec-3") || $0.hasPrefix("Opus") || $0.hasPrefix("fLaC") }
        if !audioOnly && attributes[attribute: "RESOLUTION"] == nil {
            add("hls.resolution-missing", .warning, "\(tag) for video should declare RESOLUTION", "\(apple) §1.4")
        }
        if !iFrame && !audioOnly && attributes[attribute: "FRAME-RATE"] == nil {
            add("hls.frame-rate-missing", .warning, "EXT-X-STREAM-INF for video should declare FRAME-RATE", "\(apple) §1.4")
        }
        for (attribute, type) in [("AUDIO", "AUDIO"), ("VIDEO", "VIDEO"), ("SUBTITLES", "SUBTITLES"), ("CLOSED-CAPTIONS", "CLOSED-CAPTIONS")] {
            guard let value = attributes[attribute: attribute], value.isQuoted else { continue }
            if groups["\(type)|\(value.unquoted)"] == nil {
                add("hls.group-missing", .error, "\(attribute)=\"\(value.unquoted)\" names no EXT-X-MEDIA group of TYPE=\(type)", "\(rfc) §4.4.6.2.1")
            }
        }
        return findings
    }
}
