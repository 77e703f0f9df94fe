/// The boxes of a track fragment the decryptor reads (ISO/IEC 14496-12 §8.8, ISO/IEC 23001-7
/// §6–§7): where the samples are, their auxiliary information, their sample groups.
extension FragmentDecryptor {
    /// `tfhd` (ISO/IEC 14496-12 §8.8.7).
    struct TrackFragmentHeader {
        var trackID: UInt32
        var baseDataOffset: Int?
        var sampleDescriptionIndex: UInt32?
        var defaultSampleSize: UInt32?
        var defaultBaseIsMoof: Bool

        init?(_ bytes: [UInt8], _ box: ISOBoxes.Box) {
            let body = box.body
            guard body.count >= 8 else { return nil }
            let flags = ISOBoxes.read32(bytes, body.lowerBound) & 0xFF_FFFF
            trackID = ISOBoxes.read32(bytes, body.lowerBound + 4)
            defaultBaseIsMoof = flags & 0x2_0000 != 0
            var offset = body.lowerBound + 8
            func next(_ width: Int) -> Int? {
                guard offset + width <= body.upperBound else { return nil }
                defer { offset += width }
                return offset
            }
            if flags & 0x1 != 0 {
                guard let at = next(8) else { return nil }
                let value = ISOBoxes.read64(bytes, at)
                guard value < 1 << 40 else { return nil }
                baseDataOffset = Int(value)
            }
            if flags & 0x2 != 0 {
                guard let at = next(4) else { return nil }
                sampleDescriptionIndex = ISOBoxes.read32(bytes, at)
            }
            if flags & 0x8 != 0 { guard next(4) != nil else { return nil } }
            if flags & 0x10 != 0 {
                guard let at = next(4) else { return nil }
                defaultSampleSize = ISOBoxes.read32(bytes, at)
            }
        }
    }

    /// The byte ranges of the samples of every `trun` among `boxes`, in order.
    /// - Returns: nil when a `trun` is malformed.
    static func samples(_ bytes: [UInt8], _ boxes: [ISOBoxes.Box], base: Int, defaultSize: UInt32) -> [Range<Int>]? {
        var result: [Range<Int>] = []
        var cursor = base
        for trun in boxes where trun.type == "trun" {
            let body = trun.body
            guard body.count >= 8 else { return nil }
            let flags = ISOBoxes.read32(bytes, body.lowerBound) & 0xFF_FFFF
            let count = Int(ISOBoxes.read32(bytes, body.lowerBound + 4))
            var offset = body.lowerBound + 8
            if flags & 0x1 != 0 {
                guard offset + 4 <= body.upperBound else { return nil }
                cursor = base + Int(Int32(bitPattern: ISOBoxes.read32(bytes, offset)))
                offset += 4
            }
            if flags & 0x4 != 0 { offset += 4 }
            let fields = [0x100, 0x200, 0x400, 0x800].filter { flags & UInt32($0) != 0 }.count
            guard count <= 1_000_000, offset + count * fields * 4 <= body.upperBound else { return nil }
            for _ in 0..<count {
                var size = Int(defaultSize)
                if flags & 0x100 != 0 { offset += 4 }
                if flags & 0x200 != 0 { size = Int(ISOBoxes.read32(bytes, offset)); offset += 4 }
                if flags & 0x400 != 0 { offset += 4 }
                if flags & 0x800 != 0 { offset += 4 }
                guard cursor >= 0, size <= 1 << 30 else { return nil }
                result.append(cursor..<(cursor + size))
                cursor += size
            }
        }
        return result
    }

    /// What `applyGroups` says of `seig` groups described in the `moov`, which are not read.
    static let moovGroups = "seig sample groups described in the moov are not read"

    /// Applies the `seig` sample groups of the fragment (`sbgp` + a fragment-local `sgpd`) to
    /// the per-sample defaults.
    /// - Returns: what is wrong with them, nil when they are fine or absent.
    static func applyGroups(_ bytes: [UInt8], _ boxes: [ISOBoxes.Box], to perSample: inout [InitProtection.Encryption]) -> String? {
        guard let sbgp = boxes.first(where: { $0.type == "sbgp" && $0.body.count >= 12 && ISOBoxes.fourCC(bytes, $0.body.lowerBound + 4) == "seig" })
        else { return nil }
        var groups: [InitProtection.Encryption] = []
        if let sgpd = boxes.first(where: { $0.type == "sgpd" && $0.body.count >= 12 && ISOBoxes.fourCC(bytes, $0.body.lowerBound + 4) == "seig" }) {
            let body = sgpd.body
            let version = bytes[body.lowerBound]
            var offset = body.lowerBound + 8
            var defaultLength = 0
            if version == 1 {
                guard offset + 4 <= body.upperBound else { return "the seig sgpd box is truncated" }
                defaultLength = Int(ISOBoxes.read32(bytes, offset))
                offset += 4
            }
            if version >= 2 { offset += 4 }
            guard offset + 4 <= body.upperBound else { return "the seig sgpd box is truncated" }
            let count = Int(ISOBoxes.read32(bytes, offset))
            offset += 4
            guard count <= 65_536 else { return "the seig sgpd box lists \(count) entries" }
            for _ in 0..<count {
                var length = defaultLength
                if version == 1 && defaultLength == 0 {
                    guard offset + 4 <= body.upperBound else { return "the seig sgpd box is truncated" }
                    length = Int(ISOBoxes.read32(bytes, offset))
                    offset += 4
                }
                guard let entry = InitProtection.encryption(bytes, offset, end: body.upperBound, version: 1) else {
                    return "a seig entry is truncated"
                }
                groups.append(entry)
                offset += length > 0 ? length : 20 + (entry.constantIV.map { 1 + $0.count } ?? 0)
            }
        }
        let body = sbgp.body
        var offset = body.lowerBound + 8 + (bytes[body.lowerBound] == 1 ? 4 : 0)
        guard offset + 4 <= body.upperBound else { return "the seig sbgp box is truncated" }
        let count = Int(ISOBoxes.read32(bytes, offset))
        offset += 4
        guard count <= (body.upperBound - offset) / 8 else { return "the seig sbgp box is truncated" }
        var sample = 0
        for _ in 0..<count {
            let run = Int(ISOBoxes.read32(bytes, offset))
            let index = Int(ISOBoxes.read32(bytes, offset + 4))
            offset += 8
            guard run <= perSample.count - sample else { return "the seig sbgp box covers more samples than the fragment has" }
            if index > 0x10000 {
                guard index - 0x10000 <= groups.count else { return "the seig sbgp box names group \(index - 0x10000), the sgpd has \(groups.count)" }
                for i in sample..<(sample + run) { perSample[i] = groups[index - 0x10001] }
            } else if index > 0 {
                return moovGroups
            }
            sample += run
        }
        return nil
    }

    /// The entries of a `senc` box, each sample's IV being `ivSizes[i]` bytes.
    static func auxiliaryEntries(_ bytes: [UInt8], _ senc: ISOBoxes.Box, ivSizes: [Int]) -> Result<[AuxiliaryEntry], Problem> {
        let body = senc.body
        guard body.count >= 8 else { return .failure(.init(reason: "the senc box is truncated")) }
        let version = bytes[body.lowerBound]
        guard version == 0 else { return .failure(.init(reason: "senc version \(version) is not read")) }
        let subsamples = ISOBoxes.read32(bytes, body.lowerBound) & 0x2 != 0
        let count = Int(ISOBoxes.read32(bytes, body.lowerBound + 4))
        guard count == ivSizes.count else {
            return .failure(.init(reason: "senc lists \(count) samples, the trun boxes \(ivSizes.count)"))
        }
        var offset = body.lowerBound + 8
        var entries: [AuxiliaryEntry] = []
        for size in ivSizes {
            guard offset + size <= body.upperBound else {
                return .failure(.init(reason: "the senc box ends inside sample \(entries.count + 1)'s entry (IVs of \(size) bytes)"))
            }
            var entry = AuxiliaryEntry(iv: Array(bytes[offset..<(offset + size)]))
            offset += size
            if subsamples {
                guard offset + 2 <= body.upperBound else { return .failure(.init(reason: "the senc box is truncated")) }
                let pairs = Int(ISOBoxes.read16(bytes, offset))
                offset += 2
                guard offset + 6 * pairs <= body.upperBound else { return .failure(.init(reason: "the senc box is truncated")) }
                entry.subsamples = (0..<pairs).map { i in
                    (clear: Int(ISOBoxes.read16(bytes, offset + 6 * i)), protected: Int(ISOBoxes.read32(bytes, offset + 6 * i + 2)))
                }
                offset += 6 * pairs
            }
            entries.append(entry)
        }
        guard offset == body.upperBound else {
            return .failure(.init(reason: "the senc box has \(body.upperBound - offset) bytes after its entries: the per-sample IV size does not match tenc"))
        }
        return .success(entries)
    }

    /// `saiz` sizes and the `saio` offset against the `senc` entries (ISO/IEC 23001-7 §7.1).
    /// - Parameter firstEntry: the first `senc` entry's offset from the fragment's base.
    static func checkAuxiliaryBoxes(_ bytes: [UInt8], _ boxes: [ISOBoxes.Box], entries: [AuxiliaryEntry], firstEntry: Int) -> [String] {
        var problems: [String] = []
        // A constant IV and whole-sample encryption leave nothing to point at (Shaka Packager's
        // cbcs audio): no saiz or saio is needed.
        let empty = entries.allSatisfy { $0.size == 0 }
        if let saiz = boxes.first(where: { $0.type == "saiz" }), saiz.body.count >= 9 {
            var offset = saiz.body.lowerBound + 4 + (ISOBoxes.read32(bytes, saiz.body.lowerBound) & 1 != 0 ? 8 : 0)
            if offset + 5 <= saiz.body.upperBound {
                let defaultSize = Int(bytes[offset])
                let count = Int(ISOBoxes.read32(bytes, offset + 1))
                offset += 5
                if count != entries.count {
                    problems.append("saiz counts \(count) samples, senc \(entries.count)")
                } else if defaultSize > 0, let entry = entries.first(where: { $0.size != defaultSize }) {
                    problems.append("saiz gives every sample \(defaultSize) bytes of auxiliary information, a senc entry has \(entry.size)")
                } else if defaultSize == 0, offset + count <= saiz.body.upperBound,
                          let index = entries.indices.first(where: { Int(bytes[offset + $0]) != entries[$0].size }) {
                    problems.append("saiz gives sample \(index + 1) \(bytes[offset + index]) bytes of auxiliary information, senc \(entries[index].size)")
                }
            }
        } else if !empty {
            problems.append("encrypted samples without a saiz box")
        }
        if let saio = boxes.first(where: { $0.type == "saio" }), saio.body.count >= 8 {
            let version = bytes[saio.body.lowerBound]
            let offset = saio.body.lowerBound + 4 + (ISOBoxes.read32(bytes, saio.body.lowerBound) & 1 != 0 ? 8 : 0)
            if offset + 4 <= saio.body.upperBound {
                let count = ISOBoxes.read32(bytes, offset)
                let width = version == 1 ? 8 : 4
                if count != 1 {
                    problems.append("saio has \(count) offsets (one expected, the senc entries being contiguous)")
                } else if offset + 4 + width <= saio.body.upperBound {
                    let value = version == 1 ? ISOBoxes.read64(bytes, offset + 4) : UInt64(ISOBoxes.read32(bytes, offset + 4))
                    if value != UInt64(max(0, firstEntry)) {
                        problems.append("saio points at byte \(value) of the fragment, the first senc entry is at \(firstEntry)")
                    }
                }
            }
        } else if !empty {
            problems.append("encrypted samples without a saio box")
        }
        return problems
    }
}

extension FragmentDecryptor {
    /// Renames the `senc`, `saiz` and `saio` boxes of every track fragment `free`, once their
    /// samples are decrypted or are only to be inspected: libavformat 5.1's mov demuxer stops
    /// at segments with several `moof`s that carry them ("Incorrect number of samples in
    /// encryption info"), and the media itself is the same.
    static func hideAuxiliaryInformation(_ bytes: inout [UInt8]) {
        for moof in ISOBoxes.topLevel(bytes) where moof.type == "moof" {
            for traf in ISOBoxes.children(bytes, moof.body) where traf.type == "traf" {
                for box in ISOBoxes.children(bytes, traf.body) where ["senc", "saiz", "saio"].contains(box.type) {
                    bytes.replaceSubrange((box.start + 4)..<(box.start + 8), with: Array("free".utf8))
                }
            }
        }
    }
}

/// The protection parameters of each track's fragments so far in one rendition: the per-sample
/// IV size and the pattern must not change from fragment to fragment (the key may: rotation).
struct FragmentHistory {
    private var first: [UInt32: FragmentDecryptor.Parameters] = [:]

    /// Records `outcome`'s fragments; returns a sentence for each that differs from the track's first.
    mutating func record(_ outcome: FragmentDecryptor.Outcome) -> [String] {
        var changes: [String] = []
        for (track, parameters) in outcome.fragments {
            guard let known = first[track] else { first[track] = parameters; continue }
            if known.perSampleIVSize != parameters.perSampleIVSize {
                changes.append("track \(track): per-sample IVs of \(parameters.perSampleIVSize) bytes, \(known.perSampleIVSize) in earlier fragments")
            }
            if (known.cryptBlocks, known.skipBlocks) != (parameters.cryptBlocks, parameters.skipBlocks) {
                changes.append("track \(track): the pattern \(parameters.cryptBlocks):\(parameters.skipBlocks), \(known.cryptBlocks):\(known.skipBlocks) in earlier fragments")
            }
        }
        return changes
    }
}
