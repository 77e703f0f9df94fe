import KerfManifest

/// EXT-X-SESSION-KEY against the keys of the media playlists (RFC 8216bis §4.4.6.5).
extension HLSRules {
    /// - Parameters:
    ///   - location: where the multivariant playlist was read from (key URIs resolve against it).
    ///   - media: the media playlists read, with where each was read from.
    ///   - allRead: every playlist the multivariant playlist names was read, so a session key
    ///     no media playlist uses is really unused.
    static func sessionKeys(_ document: HLSDocument, file: String, location: String,
                            media: [(location: String, document: HLSDocument)], allRead: Bool) -> [Finding] {
        let sessions = document.tags("EXT-X-SESSION-KEY")
        guard !sessions.isEmpty else { return [] }
        var findings: [Finding] = []
        var used: [String: [(file: String, attributes: [HLSDocument.Attribute])]] = [:]
        for (mediaLocation, mediaDocument) in media {
            for tag in mediaDocument.tags("EXT-X-KEY") {
                guard let attributes = tag.attributes, let uri = attributes[attribute: "URI"]?.unquoted else { continue }
                used[normalized(ResourceLoader.resolve(uri, against: mediaLocation)), default: []].append((mediaLocation, attributes))
            }
        }
        var signatures = Set<[String]>()
        for tag in sessions {
            guard let attributes = tag.attributes else { continue }
            func add(_ rule: String, _ severity: Finding.Severity, _ message: String) {
                findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: tag.line,
                                        reference: "\(rfc) §4.4.6.5"))
            }
            func value(_ name: String) -> String? { attributes[attribute: name]?.unquoted }
            func their(_ name: String, _ list: [HLSDocument.Attribute]) -> String? { list[attribute: name]?.unquoted }
            if value("METHOD") == "NONE" {
                add("hls.session-key", .error, "EXT-X-SESSION-KEY cannot have METHOD=NONE")
                continue
            }
            findings += key(attributes, line: tag.line, file: file)
            let signature = ["METHOD", "URI", "IV", "KEYFORMAT", "KEYFORMATVERSIONS"].map { value($0) ?? "" }
            if !signatures.insert(signature).inserted {
                add("hls.session-key", .error, "EXT-X-SESSION-KEY repeats an earlier one with the same METHOD, URI, IV, KEYFORMAT and KEYFORMATVERSIONS")
                continue
            }
            guard let uri = value("URI") else { continue }
            let users = used[normalized(ResourceLoader.resolve(uri, against: location))] ?? []
            if users.isEmpty {
                if allRead && !media.isEmpty {
                    add("hls.session-key-unused", .warning, "no media playlist has an EXT-X-KEY with the URI \(uri) of this EXT-X-SESSION-KEY")
                }
                continue
            }
            for (userFile, user) in users {
                let name = userFile.split(separator: "/").suffix(2).joined(separator: "/")
                var differences: [String] = []
                for (attribute, fallback) in [("METHOD", ""), ("KEYFORMAT", "identity"), ("KEYFORMATVERSIONS", "1")]
                where (value(attribute) ?? fallback) != (their(attribute, user) ?? fallback) {
                    differences.append("\(attribute) \(value(attribute) ?? fallback) here, \(their(attribute, user) ?? fallback) in \(name)")
                }
                if !differences.isEmpty {
                    add("hls.session-key", .error, "EXT-X-SESSION-KEY and the EXT-X-KEY with the same URI differ: \(differences.joined(separator: "; "))")
                    break
                }
                if let sessionID = value("KEYID")?.lowercased(), let mediaID = their("KEYID", user)?.lowercased(), sessionID != mediaID {
                    add("hls.session-key-keyid", .warning, "EXT-X-SESSION-KEY has KEYID \(sessionID), the EXT-X-KEY with the same URI in \(name) \(mediaID)")
                    break
                }
            }
        }
        return findings
    }

    /// A resolved URI or path without `.` and `dir/..` segments, for comparing.
    static func normalized(_ location: String) -> String {
        var prefix = ""
        var path = Substring(location)
        if let scheme = location.firstRange(of: "://") {
            let hostEnd = location[scheme.upperBound...].firstIndex(of: "/") ?? location.endIndex
            prefix = String(location[..<hostEnd])
            path = location[hostEnd...]
        }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            if part == "." { continue }
            if part == "..", let last = parts.last, !last.isEmpty, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return prefix + parts.joined(separator: "/")
    }
}
