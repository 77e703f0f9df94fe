/// How an init segment says its tracks are protected (ISO/IEC 23001-7 §4, §8): for every
/// sample entry, its protection scheme (`sinf`: `frma`, `schm`, `schi`/`tenc`); the `trex`
/// defaults movie fragments fall back on; the `pssh` boxes of the `moov`.
struct InitProtection {
    /// `tenc` (ISO/IEC 23001-7 §8.2), or the same fields from a `seig` sample group (§6).
    struct Encryption: Equatable {
        var isProtected: Bool
        var perSampleIVSize: Int
        var keyID: [UInt8]
        var constantIV: [UInt8]?
        /// The pattern (`tenc` version 1): 16-byte blocks encrypted, then left clear.
        var cryptBlocks: Int
        var skipBlocks: Int
    }

    /// One sample entry of a track's `stsd`.
    struct Entry {
        /// The entry's type: `encv`/`enca` when protected, else the codec's (`avc1`, `mp4a`).
        var format: String
        /// `frma`: the codec's sample entry type behind `encv`/`enca`.
        var originalFormat: String?
        /// `schm`: the scheme's four-character code (`cenc`, `cbcs`) and version.
        var scheme: String?
        var schemeVersion: UInt32?
        var tencVersion: UInt8?
        var encryption: Encryption?

        var isProtected: Bool { format == "encv" || format == "enca" || encryption != nil }
    }

    struct Track {
        var id: UInt32
        /// The `hdlr` handler type: `vide`, `soun`, `text`…
        var handler: String
        var entries: [Entry]
        /// `trex` defaults for fragments.
        var defaultDescriptionIndex: UInt32 = 1
        var defaultSampleSize: UInt32 = 0

        var isProtected: Bool { entries.contains(where: \.isProtected) }
        /// The entry fragments name by 1-based `index`.
        func entry(_ index: UInt32) -> Entry? {
            index >= 1 && Int(index) <= entries.count ? entries[Int(index) - 1] : nil
        }
    }

    var tracks: [Track] = []
    /// Byte ranges of the `pssh` boxes of the `moov` (whole boxes, headers included).
    var psshBoxes: [Range<Int>] = []
    /// What is malformed in the protection boxes (a short sentence each).
    var problems: [String] = []

    var isProtected: Bool { tracks.contains(where: \.isProtected) }

    func track(_ id: UInt32) -> Track? { tracks.first { $0.id == id } }

    /// Every protected track's `tenc` key ID, scheme and track, in track order.
    var protectedEntries: [(track: Track, entry: Entry)] {
        tracks.flatMap { track in track.entries.filter(\.isProtected).map { (track: track, entry: $0) } }
    }

    /// Reads the `moov` of `bytes` (an init segment, or a whole file that begins with one).
    /// - Returns: nil when there is no `moov`.
    static func parse(_ bytes: [UInt8]) -> InitProtection? {
        guard let moov = ISOBoxes.topLevel(bytes).first(where: { $0.type == "moov" }) else { return nil }
        var result = InitProtection()
        var defaults: [UInt32: (index: UInt32, size: UInt32)] = [:]
        for child in ISOBoxes.children(bytes, moov.body) {
            switch child.type {
            case "pssh":
                result.psshBoxes.append(child.start..<child.end)
            case "mvex":
                for trex in ISOBoxes.children(bytes, child.body) where trex.type == "trex" && trex.body.count >= 24 {
                    let b = trex.body.lowerBound
                    defaults[ISOBoxes.read32(bytes, b + 4)] = (ISOBoxes.read32(bytes, b + 8), ISOBoxes.read32(bytes, b + 16))
                }
            case "trak":
                if let track = result.readTrack(bytes, child) { result.tracks.append(track) }
            default:
                break
            }
        }
        for index in result.tracks.indices {
            if let trex = defaults[result.tracks[index].id] {
                result.tracks[index].defaultDescriptionIndex = trex.index
                result.tracks[index].defaultSampleSize = trex.size
            }
        }
        return result
    }

    private mutating func readTrack(_ bytes: [UInt8], _ trak: ISOBoxes.Box) -> Track? {
        guard let tkhd = ISOBoxes.first("tkhd", bytes, trak.body), tkhd.body.count >= 24 else { return nil }
        let id = ISOBoxes.read32(bytes, tkhd.body.lowerBound + (bytes[tkhd.body.lowerBound] == 1 ? 20 : 12))
        var handler = ""
        if let hdlr = ISOBoxes.find(["mdia", "hdlr"], bytes, trak.body), hdlr.body.count >= 12 {
            handler = ISOBoxes.fourCC(bytes, hdlr.body.lowerBound + 8)
        }
        var track = Track(id: id, handler: handler, entries: [])
        guard let stsd = ISOBoxes.find(["mdia", "minf", "stbl", "stsd"], bytes, trak.body), stsd.body.count >= 8 else { return track }
        for entry in ISOBoxes.children(bytes, (stsd.body.lowerBound + 8)..<stsd.body.upperBound) {
            track.entries.append(sampleEntry(bytes, entry, handler: handler, trackID: id))
        }
        return track
    }

    /// Where the child boxes of a sample entry start: after the SampleEntry fields and the
    /// visual (70 bytes) or audio (20, plus 16 or 36 for QuickTime sound versions 1 and 2) ones.
    private static func childrenStart(_ bytes: [UInt8], _ entry: ISOBoxes.Box, handler: String) -> Int? {
        let body = entry.body
        switch handler {
        case "vide": return body.count >= 78 ? body.lowerBound + 78 : nil
        case "soun":
            guard body.count >= 28 else { return nil }
            let version = ISOBoxes.read16(bytes, body.lowerBound + 8)
            let start = body.lowerBound + 28 + (version == 1 ? 16 : version == 2 ? 36 : 0)
            return start <= body.upperBound ? start : nil
        default: return nil
        }
    }

    private mutating func sampleEntry(_ bytes: [UInt8], _ box: ISOBoxes.Box, handler: String, trackID: UInt32) -> Entry {
        var entry = Entry(format: box.type)
        guard let start = Self.childrenStart(bytes, box, handler: handler),
              let sinf = ISOBoxes.first("sinf", bytes, start..<box.end) else {
            if entry.isProtected { problems.append("track \(trackID): the \(box.type) sample entry has no sinf box") }
            return entry
        }
        for child in ISOBoxes.children(bytes, sinf.body) {
            let b = child.body.lowerBound
            switch child.type {
            case "frma" where child.body.count >= 4:
                entry.originalFormat = ISOBoxes.fourCC(bytes, b)
            case "schm" where child.body.count >= 12:
                entry.scheme = ISOBoxes.fourCC(bytes, b + 4)
                entry.schemeVersion = ISOBoxes.read32(bytes, b + 8)
            case "schi":
                guard let tenc = ISOBoxes.first("tenc", bytes, child.body), tenc.body.count >= 4 else { continue }
                entry.tencVersion = bytes[tenc.body.lowerBound]
                if let encryption = Self.encryption(bytes, tenc.body.lowerBound + 4, end: tenc.end, version: bytes[tenc.body.lowerBound]) {
                    entry.encryption = encryption
                } else {
                    problems.append("track \(trackID): the tenc box is truncated")
                }
            default:
                break
            }
        }
        if entry.scheme == nil { problems.append("track \(trackID): the sinf box has no schm box") }
        if entry.encryption == nil && entry.scheme != nil { problems.append("track \(trackID): the sinf box has no tenc box") }
        return entry
    }

    /// The fields `tenc` and `seig` share, from `offset` (after `tenc`'s version and flags):
    /// reserved, pattern (version ≥ 1), isProtected, Per_Sample_IV_Size, KID, constant IV.
    static func encryption(_ bytes: [UInt8], _ offset: Int, end: Int, version: UInt8) -> Encryption? {
        guard offset + 20 <= end else { return nil }
        let pattern = bytes[offset + 1]
        var result = Encryption(isProtected: bytes[offset + 2] == 1, perSampleIVSize: Int(bytes[offset + 3]),
                                keyID: Array(bytes[(offset + 4)..<(offset + 20)]), constantIV: nil,
                                cryptBlocks: version >= 1 ? Int(pattern >> 4) : 0, skipBlocks: version >= 1 ? Int(pattern & 0xf) : 0)
        if result.isProtected && result.perSampleIVSize == 0 {
            guard offset + 21 <= end else { return nil }
            let size = Int(bytes[offset + 20])
            guard offset + 21 + size <= end else { return nil }
            result.constantIV = Array(bytes[(offset + 21)..<(offset + 21 + size)])
        }
        return result
    }
}
