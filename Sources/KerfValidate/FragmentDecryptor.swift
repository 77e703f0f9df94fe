import KerfCore
import KerfCrypto

/// Decrypts, in place, the Common Encryption samples of the movie fragments in a buffer
/// (ISO/IEC 23001-7): `cenc` (AES-CTR, §10.1) and `cbcs` (AES-CBC with a block pattern and a
/// constant or per-sample IV, §10.4), whole samples or by subsample map. The sample
/// auxiliary information is read from `senc` (§7.2), checked against `saiz`/`saio`, with the
/// defaults of the sample entry's `tenc` or of a `seig` sample group (§6).
///
/// The buffer is the init segment followed by a media segment, or one whole file: the boxes
/// stay where they are, only the protected bytes of the samples change.
struct FragmentDecryptor {
    /// What one track fragment was protected with, for comparing fragments of a track.
    struct Parameters: Equatable {
        var scheme: String
        var perSampleIVSize: Int
        var cryptBlocks: Int
        var skipBlocks: Int
    }

    struct Outcome {
        var encryptedSamples = 0
        var decryptedSamples = 0
        /// Key IDs (hex) of encrypted samples no key was given for, in the order met.
        var missingKeys: [String] = []
        /// Key IDs (hex) that decrypted samples.
        var usedKeys: [String] = []
        /// Tracks (track_ID) with samples decrypted.
        var decryptedTracks: Set<UInt32> = []
        /// What contradicts the spec or the rest of the file (one sentence each); the track
        /// fragment concerned is left as it was.
        var problems: [String] = []
        /// What the validator cannot decrypt (a scheme, a storage of the auxiliary information).
        var unsupported: [String] = []
        var fragments: [(trackID: UInt32, parameters: Parameters)] = []

        mutating func note(_ list: WritableKeyPath<Outcome, [String]>, _ item: String) {
            if !self[keyPath: list].contains(item) { self[keyPath: list].append(item) }
        }
    }

    /// Why a track fragment cannot be decrypted.
    struct Problem: Error {
        var reason: String
    }

    /// One sample's `senc` entry.
    struct AuxiliaryEntry {
        var iv: [UInt8]
        /// (clear, protected) byte counts; nil: the whole sample is protected.
        var subsamples: [(clear: Int, protected: Int)]?
        var size: Int { iv.count + (subsamples.map { 2 + 6 * $0.count } ?? 0) }
    }

    let protection: InitProtection
    let keys: DecryptionKeys

    /// Decrypts every `moof` at the top level of `bytes`.
    /// - Parameter segmentStart: where the media segment begins in `bytes` (explicit
    ///   `base_data_offset`s count from there).
    func decrypt(_ bytes: inout [UInt8], segmentStart: Int = 0) -> Outcome {
        var outcome = Outcome()
        var ciphers: [String: SampleCipher] = [:]
        for moof in ISOBoxes.topLevel(bytes) where moof.type == "moof" {
            var previousEnd: Int?
            for traf in ISOBoxes.children(bytes, moof.body) where traf.type == "traf" {
                decrypt(&bytes, moof: moof, traf: traf, segmentStart: segmentStart, previousEnd: &previousEnd,
                        outcome: &outcome, ciphers: &ciphers)
            }
        }
        return outcome
    }

    private func decrypt(_ bytes: inout [UInt8], moof: ISOBoxes.Box, traf: ISOBoxes.Box, segmentStart: Int, previousEnd: inout Int?,
                         outcome: inout Outcome, ciphers: inout [String: SampleCipher]) {
        let boxes = ISOBoxes.children(bytes, traf.body)
        guard let tfhd = boxes.first(where: { $0.type == "tfhd" }), let header = TrackFragmentHeader(bytes, tfhd) else { return }
        guard let track = protection.track(header.trackID) else { return }
        let base = header.baseDataOffset.map { segmentStart + $0 }
            ?? (header.defaultBaseIsMoof || previousEnd == nil ? moof.start : previousEnd!)
        guard let samples = Self.samples(bytes, boxes, base: base, defaultSize: header.defaultSampleSize ?? track.defaultSampleSize) else {
            outcome.note(\.problems, "track \(track.id): a trun box is malformed")
            return
        }
        previousEnd = samples.last?.upperBound ?? base
        let entry = track.entry(header.sampleDescriptionIndex ?? track.defaultDescriptionIndex)
        guard let entry, entry.isProtected else { return }  // a clear sample entry (a clear lead)
        let name = "track \(track.id)"
        guard let defaults = entry.encryption else { return }  // reported with the init segment
        let scheme = entry.scheme ?? "?"
        var perSample = [InitProtection.Encryption](repeating: defaults, count: samples.count)
        if let problem = Self.applyGroups(bytes, boxes, to: &perSample) {
            outcome.note(problem == Self.moovGroups ? \.unsupported : \.problems, "\(name): \(problem)")
            return
        }
        guard perSample.contains(where: \.isProtected) else { return }
        guard let senc = boxes.first(where: { $0.type == "senc" }) else {
            outcome.note(\.unsupported, "\(name): encrypted samples without a senc box (auxiliary information stored elsewhere is not read)")
            return
        }
        let entries: [AuxiliaryEntry]
        let firstEntry = senc.body.lowerBound + 8
        switch Self.auxiliaryEntries(bytes, senc, ivSizes: perSample.map { $0.isProtected ? $0.perSampleIVSize : 0 }) {
        case .success(let parsed): entries = parsed
        case .failure(let problem):
            outcome.note(\.problems, "\(name): \(problem.reason)")
            return
        }
        for problem in Self.checkAuxiliaryBoxes(bytes, boxes, entries: entries, firstEntry: firstEntry - base) {
            outcome.note(\.problems, "\(name): \(problem)")
        }
        let first = perSample.first(where: \.isProtected) ?? defaults
        outcome.fragments.append((track.id, Parameters(scheme: scheme, perSampleIVSize: first.perSampleIVSize,
                                                        cryptBlocks: first.cryptBlocks, skipBlocks: first.skipBlocks)))
        guard scheme == "cenc" || scheme == "cbcs" else {
            outcome.note(\.unsupported, "\(name): the '\(scheme)' scheme is not decrypted (cenc and cbcs are)")
            return
        }
        for (index, range) in samples.enumerated() where perSample[index].isProtected {
            let encryption = perSample[index]
            outcome.encryptedSamples += 1
            guard range.upperBound <= bytes.count else {
                outcome.note(\.problems, "\(name): sample \(index + 1) lies past the end of the segment")
                return
            }
            guard let key = keys.key(for: encryption.keyID) else {
                outcome.note(\.missingKeys, Hex.string(encryption.keyID))
                continue
            }
            var ranges: [Range<Int>] = []
            if let subsamples = entries[index].subsamples {
                var cursor = range.lowerBound
                for subsample in subsamples {
                    cursor += subsample.clear
                    ranges.append(cursor..<(cursor + subsample.protected))
                    cursor += subsample.protected
                }
                guard cursor == range.upperBound else {
                    outcome.note(\.problems, "\(name): the subsamples of sample \(index + 1) add up to \(cursor - range.lowerBound) bytes, the sample has \(range.count)")
                    return
                }
            } else {
                ranges = [range]
            }
            var iv = entries[index].iv.isEmpty ? (encryption.constantIV ?? []) : entries[index].iv
            guard iv.count == 8 || iv.count == 16 else {
                outcome.note(\.problems, "\(name): sample \(index + 1) has a \(iv.count)-byte IV (8 or 16 expected)")
                return
            }
            if iv.count == 8 { iv += [UInt8](repeating: 0, count: 8) }
            let cacheKey = Hex.string(encryption.keyID) + scheme
            do throws(CryptoError) {
                let cipher: SampleCipher
                if let cached = ciphers[cacheKey] {
                    cipher = cached
                } else {
                    cipher = try SampleCipher(key: key, mode: scheme == "cenc" ? .ctr : .cbc, encrypting: false)
                    ciphers[cacheKey] = cipher
                }
                if scheme == "cenc" {
                    try cipher.applyCTR(&bytes, ranges: ranges, iv: iv)
                } else {
                    try cipher.applyCBC(&bytes, ranges: ranges, iv: iv, crypt: encryption.cryptBlocks, skip: encryption.skipBlocks)
                }
            } catch {
                outcome.note(\.problems, "\(name): \(error.message)")
                return
            }
            outcome.decryptedSamples += 1
            outcome.decryptedTracks.insert(track.id)
            outcome.note(\.usedKeys, Hex.string(encryption.keyID))
        }
    }
}
