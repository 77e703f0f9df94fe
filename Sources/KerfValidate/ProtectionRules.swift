import KerfCore
import KerfCrypto
import KerfManifest

/// Common Encryption checks shared by HLS and DASH `--deep`: an init segment's protection
/// boxes on their own and against what the playlist or MPD signals. Each check yields a note
/// whose rule the caller prefixes with `hls.` or `dash.` and places (a line, an XPath).
enum ProtectionRules {
    static let cenc = "ISO/IEC 23001-7"

    struct Note: Equatable {
        /// The rule ID without its `hls.`/`dash.` prefix.
        var rule: String
        var severity: Finding.Severity
        var message: String
        var reference: String
    }

    /// The four-character codes of the Common Encryption schemes.
    static let schemes: Set<String> = ["cenc", "cbcs", "cens", "cbc1"]

    /// The init segment on its own: well-formed `pssh` boxes of known systems, `sinf` boxes
    /// with `schm` and `tenc`, `tenc` fields the scheme allows.
    static func initSegment(_ protection: InitProtection, bytes: [UInt8], name: String) -> [Note] {
        var notes: [Note] = []
        for range in protection.psshBoxes {
            do {
                let box = try PSSHBox.parse(Array(bytes[range]))
                if PSSHBox.knownSystems[box.system] == nil {
                    notes.append(Note(rule: "pssh-system-unknown", severity: .warning,
                                      message: "\(name) has a pssh box for DRM system \(box.system), which is not a known system ID",
                                      reference: "\(cenc) §8.1, DASH-IF system ID registry"))
                }
            } catch {
                notes.append(Note(rule: "pssh", severity: .error, message: "a pssh box of \(name) is malformed: \(error.reason)",
                                  reference: "\(cenc) §8.1"))
            }
        }
        for problem in protection.problems {
            notes.append(Note(rule: "encryption-inconsistent", severity: .error, message: "\(name): \(problem)", reference: "ISO/IEC 14496-12 §8.12, \(cenc) §8.2"))
        }
        for (track, entry) in protection.protectedEntries {
            guard let scheme = entry.scheme, let encryption = entry.encryption else { continue }
            var wrong: [String] = []
            if ![0, 8, 16].contains(encryption.perSampleIVSize) {
                wrong.append("Per_Sample_IV_Size is \(encryption.perSampleIVSize) (0, 8 or 16)")
            }
            if encryption.isProtected, encryption.perSampleIVSize == 0, ![8, 16].contains(encryption.constantIV?.count ?? 0) {
                wrong.append("no per-sample IVs and no 8- or 16-byte constant IV")
            }
            switch scheme {
            case "cenc":
                if encryption.isProtected && encryption.perSampleIVSize == 0 { wrong.append("cenc needs per-sample IVs, not a constant IV") }
                if encryption.cryptBlocks != 0 || encryption.skipBlocks != 0 { wrong.append("cenc has no encryption pattern") }
            case "cbcs":
                if (entry.tencVersion ?? 0) < 1 { wrong.append("cbcs needs tenc version 1 (with its pattern), it is version \(entry.tencVersion ?? 0)") }
            default:
                break
            }
            if !schemes.contains(scheme) {
                wrong.append("schm names '\(scheme)', not a Common Encryption scheme")
            }
            for sentence in wrong {
                notes.append(Note(rule: "encryption-inconsistent", severity: .error, message: "\(name), track \(track.id): \(sentence)",
                                  reference: "\(cenc) §8.2, §10"))
            }
        }
        return notes
    }

    /// The protected sample entries' schemes and key IDs, "cbcs (KID 0011…)".
    static func summary(_ protection: InitProtection) -> String {
        let parts = protection.protectedEntries.map { (_, entry) in
            "\(entry.scheme ?? entry.format)" + (entry.encryption.map { " with key ID \(Hex.string($0.keyID))" } ?? "")
        }
        return Array(Set(parts)).sorted().joined(separator: ", ")
    }

    /// An HLS init segment against the EXT-X-KEY tags of the segments that use it: encrypted
    /// samples need SAMPLE-AES (`cbcs`) or SAMPLE-AES-CTR (`cenc`), clear ones no such key,
    /// and a KEYID names a `tenc` default_KID.
    static func hls(_ protection: InitProtection, keys: [HLSKey], name: String) -> [Note] {
        var notes: [Note] = []
        let rfc = "\(HLSRules.rfc) §4.4.4.4"
        let sampleKeys = keys.filter { $0.method == .sampleAES || $0.method == .sampleAESCTR }
        if protection.isProtected {
            if sampleKeys.isEmpty {
                notes.append(Note(rule: "protection-missing", severity: .error,
                                  message: "\(name) describes encrypted samples (\(summary(protection))) but no EXT-X-KEY with METHOD=SAMPLE-AES or SAMPLE-AES-CTR applies",
                                  reference: rfc))
            }
        } else if let key = sampleKeys.first {
            notes.append(Note(rule: "protection-on-clear", severity: .error,
                              message: "EXT-X-KEY METHOD=\(key.method.rawValue) applies but \(name) describes no encrypted sample entry",
                              reference: rfc))
        }
        let entries = protection.protectedEntries.map { $0.entry }
        for key in sampleKeys {
            let expected = key.method == .sampleAES ? "cbcs" : "cenc"
            for scheme in Set(entries.compactMap(\.scheme)).sorted() where scheme != expected {
                notes.append(Note(rule: "scheme-mismatch", severity: .error,
                                  message: "EXT-X-KEY METHOD=\(key.method.rawValue) means the '\(expected)' scheme, but the schm box of \(name) names '\(scheme)'",
                                  reference: rfc))
            }
        }
        let kids = Set(entries.compactMap { $0.encryption.map { Hex.string($0.keyID) } })
        // An all-zero tenc KID under key rotation: each fragment names its key in a seig group.
        let rotating = kids == [String(repeating: "0", count: 32)]
        for key in keys {
            guard let text = key.keyID, !kids.isEmpty, !rotating else { continue }
            guard let bytes = Hex.bytes(text), bytes.count == 16 else {
                notes.append(Note(rule: "kid-mismatch", severity: .error, message: "KEYID \(text) is not 0x and 32 hex digits (a 16-byte key ID)",
                                  reference: "\(cenc) §8.2"))
                continue
            }
            if !kids.contains(Hex.string(bytes)) {
                notes.append(Note(rule: "kid-mismatch", severity: .error,
                                  message: "KEYID \(text) is not the default_KID of \(name)'s tenc (\(kids.sorted().joined(separator: ", ")))",
                                  reference: "\(cenc) §8.2"))
            }
        }
        return notes
    }

    /// A DASH Representation's init segment against its ContentProtection descriptors: encrypted
    /// samples need the mp4protection descriptor, whose @value names the `schm` scheme and
    /// whose cenc:default_KID is the `tenc` default_KID; clear samples need none.
    static func dash(_ protection: InitProtection, descriptors: [DASHPresentation.ContentProtection], name: String) -> [Note] {
        var notes: [Note] = []
        let mp4 = descriptors.first { $0.isMP4Protection }
        let iso = "\(DASHRules.iso) §5.8.5.2.2"
        if protection.isProtected, mp4 == nil {
            notes.append(Note(rule: "protection-missing", severity: .error,
                              message: "\(name) has encrypted samples (\(summary(protection))) but no ContentProtection with schemeIdUri urn:mpeg:dash:mp4protection:2011",
                              reference: iso))
        }
        if !protection.isProtected, let descriptor = descriptors.first {
            notes.append(Note(rule: "protection-on-clear", severity: .error,
                              message: "\(name) has clear samples but signals ContentProtection \(descriptor.schemeIdUri)", reference: iso))
        }
        guard let mp4, protection.isProtected else { return notes }
        let entries = protection.protectedEntries.map { $0.entry }
        if let value = mp4.scheme {
            for scheme in Set(entries.compactMap(\.scheme)).sorted() where scheme != value {
                notes.append(Note(rule: "scheme-mismatch", severity: .error,
                                  message: "the mp4protection ContentProtection of \(name) says '\(value)', the schm box of its init segment '\(scheme)'",
                                  reference: iso))
            }
        }
        let kids = Set(entries.compactMap { $0.encryption.map { Hex.uuid($0.keyID) } })
        for descriptor in descriptors {
            guard let kid = descriptor.defaultKID, !kids.isEmpty, !kids.contains(kid.lowercased()) else { continue }
            notes.append(Note(rule: "kid-mismatch", severity: .error,
                              message: "cenc:default_KID \(kid) of \(name) is not the default_KID of its tenc (\(kids.sorted().joined(separator: ", ")))",
                              reference: "\(cenc) §11.2"))
        }
        return notes
    }
}
