import KerfCore

/// RFC 6381 `codecs` parameter values, computed from codec setup data.
///
/// Pure functions over bytes so they can be tested against published examples:
/// H.264 (ISO/IEC 14496-15 §5.4.1, `avc1.PPCCLL`), HEVC (14496-15 Annex E, `hvc1.…`), AV1 (AV1
/// Codec ISO Media File Format Binding §5, `av01.P.LLT.DD`), AAC (RFC 6381 §3.3, `mp4a.40.N`),
/// AC-3 `ac-3`, E-AC-3 `ec-3` (ETSI TS 102 366 Annex F), Opus `Opus`, MP3 `mp4a.40.34`, FLAC
/// `fLaC`, WebVTT `wvtt`.
public enum CodecString {
    /// The codecs value for a track, or `nil` when it cannot be derived.
    /// - Parameters:
    ///   - codec: FFmpeg codec name.
    ///   - extradata: avcC/hvcC/av1C/AudioSpecificConfig, or Annex B parameter sets.
    ///   - profile: FFmpeg's numeric profile, used when extradata is absent.
    ///   - level: FFmpeg's numeric level, used when extradata is absent.
    ///   - tag: the sample entry FourCC ("hvc1"/"hev1", "avc1"/"avc3"), when known.
    public static func make(codec: String, extradata: [UInt8], profile: Int? = nil, level: Int? = nil,
                            tag: String? = nil) -> String? {
        switch codec {
        case "h264":
            return avc(extradata: extradata, profile: profile, level: level, sampleEntry: tag == "avc3" ? "avc3" : "avc1")
        case "hevc":
            return hevc(extradata: extradata, sampleEntry: tag == "hev1" ? "hev1" : "hvc1")
        case "av1":
            return av1(configuration: extradata)
        case "aac":
            return aac(audioSpecificConfig: extradata, profile: profile)
        case "ac3": return "ac-3"
        case "eac3": return "ec-3"
        case "opus": return "Opus"
        case "mp3": return "mp4a.40.34"
        case "flac": return "fLaC"
        case "webvtt": return "wvtt"
        case "mov_text", "subrip", "ass", "ssa", "text": return "wvtt"
        default: return nil
        }
    }

    // MARK: H.264

    /// `avc1.PPCCLL` from an avcC record, or from the first SPS of Annex B extradata, or from
    /// FFmpeg's profile and level numbers (constraint flags then unknown, written as 00).
    public static func avc(extradata: [UInt8], profile: Int? = nil, level: Int? = nil,
                           sampleEntry: String = "avc1") -> String? {
        var triple: (UInt8, UInt8, UInt8)?
        if extradata.count >= 4, extradata[0] == 1 {
            triple = (extradata[1], extradata[2], extradata[3])
        } else if let sps = AnnexB.nalUnits(extradata).first(where: { ($0.first ?? 0) & 0x1f == 7 }), sps.count >= 4 {
            triple = (sps[1], sps[2], sps[3])
        } else if let profile, let level, profile > 0, level > 0 {
            // FFmpeg folds constraint_set1 into its "constrained baseline" profile number.
            let constrainedBaseline = profile == 578
            triple = (UInt8(profile & 0xff), constrainedBaseline ? 0x40 : 0, UInt8(level & 0xff))
        }
        guard let (p, c, l) = triple else { return nil }
        return sampleEntry + "." + hex(p) + hex(c) + hex(l)
    }

    // MARK: HEVC

    /// `hvc1.[space]profile.compat.tier+level.constraints` from an hvcC record or Annex B VPS/SPS.
    public static func hevc(extradata: [UInt8], sampleEntry: String = "hvc1") -> String? {
        var ptl: ArraySlice<UInt8>?
        if extradata.count >= 13, extradata[0] == 1 {
            ptl = extradata[1...12]
        } else {
            // SPS (type 33): 2-byte NAL header, then 1 byte of ids, then profile_tier_level.
            for nal in AnnexB.nalUnits(extradata) where nal.count >= 2 && (nal[0] >> 1) & 0x3f == 33 {
                let rbsp = AnnexB.removingEmulationPrevention(nal)
                if rbsp.count >= 15 { ptl = rbsp[3...14]; break }
            }
        }
        guard let bytes = ptl.map(Array.init), bytes.count == 12 else { return nil }
        let space = Int(bytes[0] >> 6), tier = (bytes[0] >> 5) & 1, profileIDC = Int(bytes[0] & 0x1f)
        var compatibility: UInt32 = 0
        for i in 0..<4 { compatibility = compatibility << 8 | UInt32(bytes[1 + i]) }
        let reversed = reverseBits(compatibility)
        var constraints = Array(bytes[5...10])
        while let last = constraints.last, last == 0 { constraints.removeLast() }
        let level = Int(bytes[11])
        var result = "\(sampleEntry).\(["", "A", "B", "C"][space])\(profileIDC).\(String(reversed, radix: 16, uppercase: true))"
        result += ".\(tier == 0 ? "L" : "H")\(level)"
        for byte in constraints { result += "." + String(byte, radix: 16, uppercase: true) }
        return result
    }

    // MARK: AV1

    /// `av01.P.LLT.DD` from an AV1CodecConfigurationRecord (av1C).
    public static func av1(configuration c: [UInt8]) -> String? {
        guard c.count >= 4, c[0] & 0x80 != 0 else { return nil }
        let profile = Int(c[1] >> 5), level = Int(c[1] & 0x1f)
        let tier = (c[2] >> 7) & 1, highBitDepth = (c[2] >> 6) & 1, twelveBit = (c[2] >> 5) & 1
        let depth = highBitDepth == 0 ? 8 : (twelveBit == 1 ? 12 : 10)
        let levelText = level < 10 ? "0\(level)" : "\(level)"
        let depthText = depth < 10 ? "0\(depth)" : "\(depth)"
        return "av01.\(profile).\(levelText)\(tier == 0 ? "M" : "H").\(depthText)"
    }

    // MARK: AAC

    /// `mp4a.40.N`, N being the MPEG-4 audio object type of the AudioSpecificConfig, or derived
    /// from FFmpeg's AAC profile number when there is no configuration.
    public static func aac(audioSpecificConfig asc: [UInt8], profile: Int? = nil) -> String? {
        if asc.count >= 1 {
            var objectType = Int(asc[0] >> 3)
            if objectType == 31, asc.count >= 2 {
                objectType = 32 + (Int(asc[0] & 0x07) << 3 | Int(asc[1] >> 5))
            }
            if objectType > 0 { return "mp4a.40.\(objectType)" }
        }
        // FFmpeg's FF_PROFILE_AAC_* values are the object type minus one.
        if let profile, profile >= 0 { return "mp4a.40.\(profile + 1)" }
        return "mp4a.40.2"
    }

    // MARK: helpers

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }

    static func reverseBits(_ value: UInt32) -> UInt32 {
        var v = value, r: UInt32 = 0
        for _ in 0..<32 { r = r << 1 | (v & 1); v >>= 1 }
        return r
    }
}
