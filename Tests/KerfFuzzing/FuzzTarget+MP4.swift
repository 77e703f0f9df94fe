import KerfCore
@testable import KerfValidate

extension FuzzTarget {
    /// The key the encrypted MP4 corpus files were packaged with (`<key ID>:<key>`).
    static let contentKey = "00112233445566778899aabbccddeeff:0123456789abcdef0123456789abcdef"

    /// MP4 bytes (an init segment followed by a media segment, or one file) as `validate --deep`
    /// reads them: every box in the tree stays inside its parent, protection of the sample
    /// entries, `pssh` boxes, presentation times of the fragments, and Common Encryption
    /// decryption with the corpus key, reported as the validator reports it.
    static func mp4(_ bytes: [UInt8]) -> [String] {
        var problems: [String] = []
        walk(bytes, 0..<bytes.count, depth: 0, problems: &problems)
        let top = ISOBoxes.topLevel(bytes)
        for box in top where box.type == "moov" {
            for pssh in ISOBoxes.children(bytes, box.body) where pssh.type == "pssh" {
                _ = try? PSSHBox.parse(Array(bytes[pssh.start..<pssh.end]))
            }
        }
        _ = FragmentTiming.presentationRange(bytes, trackID: nil)
        _ = FragmentTiming.presentationRange(bytes, trackID: 1)
        guard let protection = InitProtection.parse(bytes) else { return problems }
        var keys = DecryptionKeys()
        try? keys.add(parsing: contentKey)
        // The media segment starts after the init segment's moov.
        let segmentStart = top.first { $0.type == "moov" }?.end ?? 0
        var decrypted = bytes
        let outcome = FragmentDecryptor(protection: protection, keys: keys).decrypt(&decrypted, segmentStart: segmentStart)
        if decrypted.count != bytes.count { problems.append("decryption changed the size of the bytes") }
        var reporter = SegmentProtectionReporter()
        _ = reporter.notes(SegmentProtection(outcome: outcome), segment: "fuzz.m4s")
        FragmentDecryptor.hideAuxiliaryInformation(&decrypted)
        return problems
    }

    /// Every box and the boxes inside it (any box may hold boxes to a reader that guesses).
    private static func walk(_ bytes: [UInt8], _ range: Range<Int>, depth: Int, problems: inout [String]) {
        guard depth < 8 else { return }
        for box in ISOBoxes.children(bytes, range) {
            guard box.start >= range.lowerBound, box.body.lowerBound >= box.start, box.end <= range.upperBound else {
                problems.append("box \(box.type.debugDescription) at \(box.start) is outside \(range)")
                return
            }
            if box.body.count >= 8 { walk(bytes, box.body, depth: depth + 1, problems: &problems) }
        }
    }
}
