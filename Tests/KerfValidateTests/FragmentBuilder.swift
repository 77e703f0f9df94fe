import KerfCrypto

/// Hand-built CMAF init and media segments with Common Encryption boxes, and the encryption
/// modes done here from a one-block AES primitive, so the decryptor is checked against code
/// that shares nothing with it but the AES block function.
enum FragmentBuilder {
    static func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    static func u32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    static func box(_ type: String, _ payload: [UInt8]) -> [UInt8] { u32(8 + payload.count) + Array(type.utf8) + payload }
    static func full(_ type: String, version: UInt8 = 0, flags: Int = 0, _ payload: [UInt8]) -> [UInt8] {
        box(type, [version, UInt8(flags >> 16 & 0xff), UInt8(flags >> 8 & 0xff), UInt8(flags & 0xff)] + payload)
    }

    /// What a protected sample entry says.
    struct Protection {
        var scheme: String
        var keyID: [UInt8]
        var perSampleIVSize: Int
        var constantIV: [UInt8]? = nil
        var crypt = 0
        var skip = 0
    }

    /// An init segment with one track (ID 1): a protected `encv`/`enca` entry and, with
    /// `clearEntry`, the clear original as entry 2.
    static func initSegment(video: Bool, protection: Protection, clearEntry: Bool = false, pssh: [UInt8] = []) -> [UInt8] {
        let version: UInt8 = protection.scheme == "cbcs" ? 1 : 0
        var tenc: [UInt8] = [0, version == 1 ? UInt8(protection.crypt << 4 | protection.skip) : 0, 1, UInt8(protection.perSampleIVSize)]
        tenc += protection.keyID
        if let iv = protection.constantIV { tenc += [UInt8(iv.count)] + iv }
        let sinf = box("sinf", box("frma", Array((video ? "avc1" : "mp4a").utf8))
                       + full("schm", Array(protection.scheme.utf8) + u32(0x10000))
                       + box("schi", full("tenc", version: version, tenc)))
        let fields = [UInt8](repeating: 0, count: video ? 78 : 28)
        var entries = box(video ? "encv" : "enca", fields + sinf)
        if clearEntry { entries += box(video ? "avc1" : "mp4a", fields) }
        let stsd = full("stsd", u32(clearEntry ? 2 : 1) + entries)
        let hdlr = full("hdlr", u32(0) + Array((video ? "vide" : "soun").utf8) + [UInt8](repeating: 0, count: 13))
        var tkhd = [UInt8](repeating: 0, count: 80)
        tkhd.replaceSubrange(8..<12, with: u32(1))
        let trak = box("trak", full("tkhd", tkhd) + box("mdia", hdlr + box("minf", box("stbl", stsd))))
        let trex = full("trex", u32(1) + u32(1) + u32(0) + u32(0) + u32(0))
        return box("ftyp", Array("cmfc".utf8) + u32(0)) + box("moov", trak + box("mvex", trex) + pssh)
    }

    /// One sample's encryption: its IV (empty with a constant IV) and subsamples (clear, protected).
    struct Sample {
        var bytes: [UInt8]
        var iv: [UInt8] = []
        var subsamples: [(clear: Int, protected: Int)]? = nil
    }

    /// A media segment: `moof` (mfhd, traf: tfhd, trun, saiz, saio, senc, extra boxes) + `mdat`.
    /// - Parameters:
    ///   - descriptionIndex: written in `tfhd` when given.
    ///   - sencIVSize: IV bytes written per `senc` entry (the samples' own when nil).
    ///   - saioShift: added to the correct `saio` offset.
    static func mediaSegment(_ samples: [Sample], descriptionIndex: Int? = nil, senc writeSenc: Bool = true, sencIVSize: Int? = nil,
                             saioShift: Int = 0, extra: [UInt8] = []) -> [UInt8] {
        let subsamples = samples.contains { $0.subsamples != nil }
        var entries: [[UInt8]] = []
        for sample in samples {
            var entry = Array(sample.iv.prefix(sencIVSize ?? sample.iv.count))
            if let size = sencIVSize, size > entry.count { entry += [UInt8](repeating: 0xAA, count: size - entry.count) }
            if subsamples {
                let pairs = sample.subsamples ?? [(0, sample.bytes.count)]
                entry += u16(pairs.count)
                for pair in pairs { entry += u16(pair.clear) + u32(pair.protected) }
            }
            entries.append(entry)
        }
        let tfhd = full("tfhd", flags: 0x2_0000 | (descriptionIndex == nil ? 0 : 0x2), u32(1) + (descriptionIndex.map(u32) ?? []))
        let saiz = full("saiz", [0] + u32(samples.count) + entries.map { UInt8($0.count) })
        let senc = full("senc", flags: subsamples ? 2 : 0, u32(samples.count) + entries.flatMap { $0 })
        let mfhd = full("mfhd", u32(1))
        func moof(dataOffset: Int, saio: Int) -> [UInt8] {
            let trun = full("trun", flags: 0x1 | 0x200, u32(samples.count) + u32(dataOffset) + samples.flatMap { u32($0.bytes.count) })
            let saioBox = full("saio", u32(1) + u32(saio))
            let protected = writeSenc ? saiz + saioBox + senc : []
            return box("moof", mfhd + box("traf", tfhd + trun + protected + extra))
        }
        let draft = moof(dataOffset: 0, saio: 0)
        // The first senc entry: after moof and traf headers, mfhd, tfhd, trun, saiz, saio and senc's own 16 bytes.
        let trunSize = 8 + 4 + 8 + 4 * samples.count
        let firstEntry = 8 + mfhd.count + 8 + tfhd.count + trunSize + saiz.count + (8 + 4 + 4 + 4) + 16
        let final = moof(dataOffset: draft.count + 8, saio: firstEntry + saioShift)
        return final + box("mdat", samples.flatMap(\.bytes))
    }

    // MARK: the modes, from one AES block at a time

    /// AES-128 of one block: one CBC block from a zero IV is ECB.
    static func aes(_ key: AES128Key, _ block: [UInt8]) throws -> [UInt8] {
        var bytes = block
        try SampleCipher(key: key, mode: .cbc).applyCBC(&bytes, ranges: [0..<16], iv: [UInt8](repeating: 0, count: 16), crypt: 0, skip: 0)
        return bytes
    }

    /// The protected ranges of a sample, in its own coordinates.
    static func ranges(_ sample: Sample) -> [Range<Int>] {
        guard let subsamples = sample.subsamples else { return [0..<sample.bytes.count] }
        var cursor = 0
        return subsamples.map { pair in
            cursor += pair.clear
            defer { cursor += pair.protected }
            return cursor..<(cursor + pair.protected)
        }
    }

    /// `cenc`: the protected bytes, taken together, XORed with AES(counter), the counter
    /// starting at the IV (8 bytes then a zero block count) and counting blocks.
    static func encryptCTR(_ sample: inout Sample, key: AES128Key) throws {
        var counter = sample.iv + [UInt8](repeating: 0, count: 16 - sample.iv.count)
        var stream: [UInt8] = []
        for range in ranges(sample) {
            for index in range {
                if stream.isEmpty {
                    stream = try aes(key, counter)
                    for i in (0..<16).reversed() {
                        counter[i] &+= 1
                        if counter[i] != 0 { break }
                    }
                }
                sample.bytes[index] ^= stream.removeFirst()
            }
        }
    }

    /// `cbcs`: in each protected range, from `iv`, the whole 16-byte blocks at the start of
    /// each crypt+skip group are chained through AES-CBC when the group's crypt blocks are
    /// all there; the rest stays clear. 0:0 encrypts every whole block.
    static func encryptCBC(_ sample: inout Sample, key: AES128Key, iv: [UInt8], crypt: Int, skip: Int) throws {
        for range in ranges(sample) {
            let blocks = range.count / 16
            var previous = iv
            for block in 0..<blocks {
                let period = crypt + skip
                let encrypted = period == 0
                    || (block % period < crypt && (block / period) * period + crypt <= blocks)
                guard encrypted else { continue }
                let start = range.lowerBound + 16 * block
                let mixed = zip(sample.bytes[start..<(start + 16)], previous).map { $0 ^ $1 }
                previous = try aes(key, mixed)
                sample.bytes.replaceSubrange(start..<(start + 16), with: previous)
            }
        }
    }
}
