/// Whether a video sample is a point where decoding can start with nothing before it, so a
/// segment (and EXT-X-INDEPENDENT-SEGMENTS, startWithSAP="1") may begin there.
///
/// Containers flag open-GOP pictures as keyframes too (an HEVC CRA, an H.264 I-frame with a
/// recovery point), but their leading pictures reference the previous GOP. Only H.264 IDR
/// pictures (NAL type 5) and HEVC IDR/BLA pictures (types 16–20) qualify.
public enum RandomAccess {
    /// - Parameters:
    ///   - sample: length-prefixed NAL units (ISO BMFF sample format).
    ///   - lengthSize: bytes of each length field (from avcC/hvcC; 4 almost everywhere).
    public static func isIndependent(codec: String, sample: UnsafeRawBufferPointer, lengthSize: Int) -> Bool {
        let hevc: Bool
        switch codec {
        case "h264": hevc = false
        case "hevc": hevc = true
        default: return true  // other codecs: trust the container's keyframe flag
        }
        var offset = 0
        while offset + lengthSize < sample.count {
            var length = 0
            for i in 0..<lengthSize { length = length << 8 | Int(sample[offset + i]) }
            offset += lengthSize
            guard length > 0, offset + length <= sample.count else { return false }
            if startsIndependentPicture(header: sample[offset], hevc: hevc) { return true }
            offset += length
        }
        return false
    }

    /// For samples in either form: Annex B (start codes) or length-prefixed per `extradata`.
    public static func isIndependent(codec: String, sample: [UInt8], extradata: [UInt8]) -> Bool {
        guard codec == "h264" || codec == "hevc" else { return true }
        if extradata.first != 1 && AnnexB.startsWithStartCode(sample) {
            return AnnexB.nalUnits(sample).contains { nal in
                guard let header = nal.first else { return false }
                return startsIndependentPicture(header: header, hevc: codec == "hevc")
            }
        }
        return sample.withUnsafeBytes {
            isIndependent(codec: codec, sample: $0, lengthSize: lengthSize(codec: codec, extradata: extradata))
        }
    }

    /// Whether a NAL unit header is an H.264 IDR slice (type 5) or an HEVC IRAP picture without
    /// leading pictures that need earlier ones: BLA or IDR (types 16–20).
    static func startsIndependentPicture(header: UInt8, hevc: Bool) -> Bool {
        hevc ? (16...20).contains(Int((header >> 1) & 0x3f)) : header & 0x1f == 5
    }

    /// The NAL length-field size an avcC/hvcC record declares (4 when it cannot be read).
    public static func lengthSize(codec: String, extradata: [UInt8]) -> Int {
        switch codec {
        case "h264" where extradata.count > 4 && extradata[0] == 1: return Int(extradata[4] & 0x03) + 1
        case "hevc" where extradata.count > 21 && extradata[0] == 1: return Int(extradata[21] & 0x03) + 1
        default: return 4
        }
    }
}
