import KerfCore

/// One entry of a sample's subsample map (ISO/IEC 23001-7 §7.2): `clear` bytes, then
/// `protected` bytes; the entries of a sample cover it exactly.
struct Subsample: Sendable, Equatable, CustomStringConvertible {
    var clear: Int
    var protected: Int
    var description: String { "\(clear)+\(protected)" }
}

/// Subsample maps of length-prefixed H.264 and HEVC samples (the ISO BMFF form, as in CMAF):
///
/// - the length prefix and NAL unit header of every NAL unit stay clear, and non-VCL NAL units
///   (parameter sets, SEI, delimiters…) stay clear entirely;
/// - a coded slice is protected from the end of its slice header, found by parsing it against
///   the SPS/PPS of the avcC/hvcC record or of the samples (CMAF §8.2.2.2 asks this of `cbcs`;
///   Kerf does it for both schemes, as Shaka Packager does);
/// - `cenc` keeps each protected range a whole number of 16-byte blocks, the remainder joining
///   the clear bytes in front (ISO/IEC 23001-7 §10.1, CMAF); `cbcs` protects to the end of the
///   NAL unit, and the cipher leaves its partial last block clear;
/// - a slice header that cannot be parsed (slice groups, unknown parameter sets, PPS extensions
///   other than range extensions): `cenc` protects from right after the NAL unit header,
///   `cbcs` fails, since a `cbcs` decoder may need the header in the clear.
///
/// Clear runs longer than 65535 bytes (a 16-bit field) are split into entries with no
/// protected bytes.
struct SubsampleMapper {
    enum ParameterSets {
        case avc(AVCParameterSets)
        case hevc(HEVCParameterSets)
    }

    let scheme: ProtectionScheme
    let lengthSize: Int
    private(set) var parameterSets: ParameterSets

    /// Nil for codecs whose samples are not NAL units (audio, AV1): they are encrypted whole.
    init?(codec: String, extradata: [UInt8], scheme: ProtectionScheme) {
        self.scheme = scheme
        lengthSize = RandomAccess.lengthSize(codec: codec, extradata: extradata)
        switch codec {
        case "h264": parameterSets = .avc(AVCParameterSets(avcC: extradata))
        case "hevc": parameterSets = .hevc(HEVCParameterSets(hvcC: extradata))
        default: return nil
        }
        // Encoders and MPEG-TS inputs give Annex B parameter sets rather than a record.
        if extradata.first != 1 {
            for nal in AnnexB.nalUnits(extradata) { learn(nal[...]) }
        }
    }

    /// Takes an SPS or PPS into the tables slices are parsed against.
    private mutating func learn(_ nal: ArraySlice<UInt8>) {
        switch parameterSets {
        case .avc(var sets):
            sets.take(nal)
            parameterSets = .avc(sets)
        case .hevc(var sets):
            sets.take(nal)
            parameterSets = .hevc(sets)
        }
    }

    var isHEVC: Bool { if case .hevc = parameterSets { return true } else { return false } }

    /// Whether a NAL unit is a coded slice (VCL) whose data is protected.
    func isSlice(_ header: UInt8) -> Bool {
        if isHEVC {
            let type = Int(header >> 1) & 0x3f
            return (0...9).contains(type) || (16...21).contains(type)
        }
        let type = header & 0x1f
        return type == 1 || type == 5
    }

    /// The subsample map of one sample.
    /// - Throws: `PackagerError` when the NAL unit lengths do not add up to the sample, or a
    ///   `cbcs` slice header cannot be parsed.
    mutating func map(_ sample: [UInt8]) throws(PackagerError) -> [Subsample] { try map(sample[...]) }

    /// The longest slice header prefix read (HEVC headers with many entry points run to a few KiB).
    static let sliceHeaderLimit = 8192

    /// The subsample map of a sample's bytes, wherever they are (a packet's payload, a slice
    /// of a buffer); indices are the collection's own.
    mutating func map<Bytes: RandomAccessCollection<UInt8>>(_ sample: Bytes) throws(PackagerError) -> [Subsample] where Bytes.Index == Int {
        var entries: [Subsample] = []
        var pendingClear = 0
        func push(clear: Int, protected: Int) {
            var clear = clear
            while clear > 0xffff {
                entries.append(Subsample(clear: 0xffff, protected: 0))
                clear -= 0xffff
            }
            entries.append(Subsample(clear: clear, protected: protected))
        }
        var offset = sample.startIndex
        while offset < sample.endIndex {
            guard offset + lengthSize <= sample.endIndex else {
                throw PackagerError(.unsupportedInput, "a video sample ends inside a NAL unit length field")
            }
            var length = 0
            for i in 0..<lengthSize { length = length << 8 | Int(sample[offset + i]) }
            let start = offset + lengthSize
            guard length > 0, start + length <= sample.endIndex else {
                throw PackagerError(.unsupportedInput, "a NAL unit length runs past the end of its sample")
            }
            let nal = ArraySlice(sample[start..<(start + min(length, Self.sliceHeaderLimit))])
            let headerSize = isHEVC ? 2 : 1
            var clear = lengthSize + length
            var protected = 0
            if isSlice(sample[start]), length > headerSize {
                let sliceHeader: Int?
                switch parameterSets {
                case .avc(let sets): sliceHeader = sets.sliceHeaderSize(nal)
                case .hevc(let sets): sliceHeader = sets.sliceHeaderSize(nal)
                }
                if sliceHeader == nil && scheme == .cbcs {
                    throw PackagerError(.unsupportedInput, "cannot parse a slice header for cbcs encryption",
                                        reason: "parameter sets missing or using features Kerf does not parse (slice groups, PPS extensions)")
                }
                let inClear = min(length, headerSize + (sliceHeader ?? 0))
                protected = length - inClear
                if scheme == .cenc { protected -= protected % 16 }
                clear = lengthSize + length - protected
            } else {
                // Parameter sets in the samples (avc3/hev1 style) update what slices refer to.
                let type = isHEVC ? Int(sample[start] >> 1) & 0x3f : Int(sample[start] & 0x1f)
                if isHEVC ? (type == 33 || type == 34) : (type == 7 || type == 8) { learn(ArraySlice(sample[start..<(start + length)])) }
            }
            if protected > 0 {
                push(clear: pendingClear + clear, protected: protected)
                pendingClear = 0
            } else {
                pendingClear += clear
            }
            offset = start + length
        }
        if pendingClear > 0 || entries.isEmpty { push(clear: pendingClear, protected: 0) }
        return entries
    }
}
