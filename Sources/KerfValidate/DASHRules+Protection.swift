import KerfCore
import KerfXML

/// ContentProtection descriptors read from the MPD alone (ISO/IEC 23009-1 §5.8.4.1,
/// §5.8.5.2.2; ISO/IEC 23001-7 §8.1, §11.2): the mp4protection @value, the form of
/// cenc:default_KID, the `pssh` boxes of cenc:pssh elements and their systems.
extension DASHRules {
    static func protection(_ mpd: XMLElement, file: String) -> [Finding] {
        guard mpd.localName == "MPD" else { return [] }
        var findings: [Finding] = []
        for (p, period) in mpd.children(named: "Period").enumerated() {
            for (a, set) in period.children(named: "AdaptationSet").enumerated() {
                let setPath = "/MPD/Period[\(p + 1)]/AdaptationSet[\(a + 1)]"
                findings += descriptors(set, path: setPath, file: file)
                for (r, representation) in set.children(named: "Representation").enumerated() {
                    findings += descriptors(representation, path: "\(setPath)/Representation[\(r + 1)]", file: file)
                }
            }
        }
        return findings
    }

    private static func descriptors(_ element: XMLElement, path: String, file: String) -> [Finding] {
        var findings: [Finding] = []
        let cenc = ProtectionRules.cenc
        for (index, descriptorElement) in element.children(named: "ContentProtection").enumerated() {
            let location = "\(path)/ContentProtection[\(index + 1)]"
            func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ reference: String, _ at: String? = nil) {
                findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: at ?? location, reference: reference))
            }
            let descriptor = DASHPresentation.ContentProtection(descriptorElement)
            if descriptor.isMP4Protection {
                if let scheme = descriptor.scheme, !scheme.isEmpty {
                    if !ProtectionRules.schemes.contains(scheme) {
                        add("dash.protection-scheme-unknown", .warning,
                            "the mp4protection ContentProtection names '\(scheme)', not a Common Encryption scheme (cenc, cbcs, cens, cbc1)",
                            "\(iso) §5.8.5.2.2")
                    }
                } else {
                    add("dash.protection-value", .error, "the mp4protection ContentProtection needs @value, the scheme's four-character code",
                        "\(iso) §5.8.5.2.2")
                }
            }
            if let kid = descriptor.defaultKID, !isUUID(kid) {
                add("dash.default-kid", .error, "cenc:default_KID \(kid) is not a UUID (8-4-4-4-12 hex digits)", "\(cenc) §11.2")
            }
            let uri = descriptor.schemeIdUri.lowercased()
            let system = uri.hasPrefix("urn:uuid:") ? String(uri.dropFirst(9)) : nil
            for (p, pssh) in descriptorElement.children(named: "pssh").enumerated() {
                let at = "\(location)/\(pssh.name)[\(p + 1)]"
                let box: PSSHBox
                do { box = try PSSHBox.parse(base64: pssh.text ?? "") } catch {
                    add("dash.pssh", .error, "cenc:pssh is not a well-formed pssh box: \(error.reason)", "\(cenc) §8.1, §11.2", at)
                    continue
                }
                if let system, system != box.system {
                    add("dash.pssh", .error, "cenc:pssh holds a pssh box for system \(box.system) inside the ContentProtection of \(system)",
                        "\(cenc) §11.2", at)
                } else if PSSHBox.knownSystems[box.system] == nil {
                    add("dash.pssh-system-unknown", .warning, "cenc:pssh is for DRM system \(box.system), which is not a known system ID",
                        "\(cenc) §8.1, DASH-IF system ID registry", at)
                }
            }
        }
        return findings
    }

    /// 8-4-4-4-12 hexadecimal digits.
    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isHexDigit } }
    }
}
