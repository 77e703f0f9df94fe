import KerfCore

/// How samples must be rewritten for ISO BMFF: MPEG-TS carries H.264/HEVC as Annex B byte
/// streams and AAC in ADTS frames, CMAF wants length-prefixed NAL units and raw AAC.
enum PayloadConversion: Sendable, Equatable {
    case none
    /// Annex B → 4-byte length prefixes, dropping parameter sets and access unit delimiters
    /// (they belong in the sample entry's avcC/hvcC).
    case annexB(hevc: Bool)
    /// ADTS → raw AAC frames.
    case adts

    /// Decides from a track's codec, its setup data and its first sample.
    ///
    /// For AVC/HEVC the extradata tells: an avcC/hvcC record (first byte 1) means samples are
    /// length-prefixed, whatever their first bytes look like (a 256–511-byte first NAL unit
    /// starts with 00 00 01 too). Only without such a record is a start code taken as Annex B.
    static func detect(codec: String, extradata: [UInt8], firstSample bytes: [UInt8]) -> PayloadConversion {
        switch codec {
        case "h264", "hevc":
            if extradata.first == 1 { return .none }
            return AnnexB.startsWithStartCode(bytes) ? .annexB(hevc: codec == "hevc") : .none
        case "aac":
            return ADTS.headerLength(bytes) != nil ? .adts : .none
        default:
            return .none
        }
    }

    /// The sample in ISO BMFF form.
    func convert(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .none:
            return bytes
        case .adts:
            guard let header = ADTS.headerLength(bytes) else { return bytes }
            return Array(bytes[header...])
        case .annexB(let hevc):
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            for nal in AnnexB.nalUnits(bytes) where !nal.isEmpty {
                let head = nal[0]
                let type = hevc ? Int((head >> 1) & 0x3f) : Int(head & 0x1f)
                let skip = hevc ? (32...35).contains(type) : (7...9).contains(type)
                if skip { continue }
                let n = UInt32(nal.count)
                out += [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
                out += nal
            }
            return out
        }
    }
}

/// ADTS headers (ISO/IEC 13818-7 §6.2, 14496-3 §1.A.2).
enum ADTS {
    /// 7 or 9 bytes when `bytes` starts with an ADTS header, else nil.
    static func headerLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 7, bytes[0] == 0xff, bytes[1] & 0xf0 == 0xf0 else { return nil }
        return bytes[1] & 0x01 == 1 ? 7 : 9
    }

    /// The 2-byte AudioSpecificConfig the header describes: object type, frequency index,
    /// channel configuration.
    static func audioSpecificConfig(_ bytes: [UInt8]) -> [UInt8]? {
        guard headerLength(bytes) != nil else { return nil }
        let objectType = (bytes[2] >> 6) + 1
        let frequency = (bytes[2] >> 2) & 0x0f
        let channels = ((bytes[2] & 0x01) << 2) | (bytes[3] >> 6)
        return [objectType << 3 | frequency >> 1, (frequency & 1) << 7 | channels << 3]
    }
}
