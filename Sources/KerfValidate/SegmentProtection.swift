/// What `--deep` learnt of one segment's encryption: the decryptor's outcome and, when samples
/// were decrypted, whether the first of them decode.
struct SegmentProtection {
    var outcome: FragmentDecryptor.Outcome
    /// Why the decrypted samples do not decode (a wrong key, most likely); nil when they do or
    /// nothing was decrypted.
    var decodeFailure: String?
    /// The segment is MPEG-TS with SAMPLE-AES and no key for it: its samples are not decrypted.
    var sampleAESTransportStream = false

    init(outcome: FragmentDecryptor.Outcome = .init(), decodeFailure: String? = nil) {
        self.outcome = outcome
        self.decodeFailure = decodeFailure
    }
}

/// Turns the segment protection of one rendition's segments into notes: errors for every
/// segment that is inconsistent or does not decrypt, information once per rendition for what
/// could not be checked (a key not given, a scheme not decrypted).
struct SegmentProtectionReporter {
    private var history = FragmentHistory()
    private var reported = Set<String>()

    /// - Parameter segment: how messages name the segment.
    mutating func notes(_ protection: SegmentProtection, segment: String) -> [ProtectionRules.Note] {
        var notes: [ProtectionRules.Note] = []
        let cenc = ProtectionRules.cenc
        let outcome = protection.outcome
        if protection.sampleAESTransportStream, reported.insert("ts").inserted {
            notes.append(.init(rule: "segment-encrypted", severity: .info,
                               message: "\(segment) and the rest are MPEG-TS with SAMPLE-AES and their key cannot be read (--key gives it): their samples are not checked, only their timing",
                               reference: "\(HLSRules.rfc) §4.4.4.4"))
        }
        for kid in outcome.missingKeys where reported.insert("kid " + kid).inserted {
            notes.append(.init(rule: "segment-encrypted", severity: .info,
                               message: "samples from \(segment) on are encrypted with key ID \(kid) and no --key gives it: their data is not checked, only their timing",
                               reference: "\(cenc) §7"))
        }
        for text in outcome.unsupported where reported.insert(text).inserted {
            notes.append(.init(rule: "segment-encrypted", severity: .info, message: "\(segment): \(text): its samples are not checked",
                               reference: "\(cenc) §7"))
        }
        for problem in outcome.problems {
            notes.append(.init(rule: "encryption-inconsistent", severity: .error, message: "\(segment): \(problem)",
                               reference: "\(cenc) §7.1, §7.2"))
        }
        for change in history.record(outcome) {
            notes.append(.init(rule: "encryption-inconsistent", severity: .error, message: "\(segment): \(change)",
                               reference: "\(cenc) §8.2"))
        }
        if let failure = protection.decodeFailure {
            notes.append(.init(rule: "decryption-failed", severity: .error,
                               message: "\(segment) decrypted with \(outcome.usedKeys.isEmpty ? "its key" : "the key for key ID \(outcome.usedKeys.joined(separator: ", "))"): \(failure) (a wrong key?)",
                               reference: "\(cenc) §9, §10"))
        }
        return notes
    }
}
