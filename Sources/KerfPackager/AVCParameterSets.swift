/// H.264 parameter sets and slice headers, as far as needed to find where a slice header ends
/// (ITU-T H.264 §7.3.2.1.1, §7.3.2.2, §7.3.3): what `cbcs` leaves clear in front of the slice
/// data. Parameter sets come from the avcC record and from samples that carry them.
struct AVCParameterSets {
    struct SequenceParameterSet {
        var separateColourPlane = false
        var chromaArrayType = 1
        var log2MaxFrameNum = 4
        var picOrderCntType = 0
        var log2MaxPicOrderCntLsb = 4
        var deltaPicOrderAlwaysZero = false
        var frameMbsOnly = true
    }

    struct PictureParameterSet {
        var spsID = 0
        var entropyCodingMode = false
        var bottomFieldPicOrderInFramePresent = false
        /// Slice groups (FMO) put a field of their own in slice headers; not parsed.
        var sliceGroups = false
        var numRefIdxL0DefaultActive = 1
        var numRefIdxL1DefaultActive = 1
        var weightedPred = false
        var weightedBipredIDC = 0
        var deblockingFilterControlPresent = false
        var redundantPicCntPresent = false
    }

    var sps: [Int: SequenceParameterSet] = [:]
    var pps: [Int: PictureParameterSet] = [:]

    /// The parameter sets of an avcC record (ISO/IEC 14496-15 §5.3.3.1).
    init(avcC record: [UInt8]) {
        guard record.count > 6, record[0] == 1 else { return }
        var offset = 5
        var units: [ArraySlice<UInt8>] = []
        for setKind in 0..<2 {
            guard offset < record.count else { return }
            let count = setKind == 0 ? Int(record[offset] & 0x1f) : Int(record[offset])
            offset += 1
            for _ in 0..<count {
                guard offset + 2 <= record.count else { return }
                let length = Int(record[offset]) << 8 | Int(record[offset + 1])
                offset += 2
                guard offset + length <= record.count else { return }
                units.append(record[offset..<(offset + length)])
                offset += length
            }
        }
        for unit in units { take(unit) }
    }

    /// Learns an SPS or PPS NAL unit (header byte included); other units are ignored, and so
    /// is a parameter set that cannot be read (slices referring to it then cannot be parsed).
    mutating func take(_ nal: ArraySlice<UInt8>) {
        guard let header = nal.first else { return }
        var reader = BitReader(nal.dropFirst())
        switch header & 0x1f {
        case 7: if let (id, set) = try? Self.parseSPS(&reader) { sps[id] = set }
        case 8: if let (id, set) = try? Self.parsePPS(&reader) { pps[id] = set }
        default: break
        }
    }

    static func parseSPS(_ r: inout BitReader) throws(BitReader.Failure) -> (Int, SequenceParameterSet) {
        var s = SequenceParameterSet()
        let profile = try r.bits(8)
        try r.skip(16)  // constraint flags, level_idc
        let id = try r.ue(max: 31)
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
            let chromaFormat = try r.ue(max: 3)
            if chromaFormat == 3 { s.separateColourPlane = try r.bit() }
            s.chromaArrayType = s.separateColourPlane ? 0 : chromaFormat
            _ = try r.ue(max: 14)  // bit_depth_luma_minus8
            _ = try r.ue(max: 14)  // bit_depth_chroma_minus8
            try r.skip(1)          // qpprime_y_zero_transform_bypass_flag
            if try r.bit() {       // seq_scaling_matrix_present_flag
                for i in 0..<(chromaFormat != 3 ? 8 : 12) {
                    if try r.bit() { try skipScalingList(&r, size: i < 6 ? 16 : 64) }
                }
            }
        }
        s.log2MaxFrameNum = try r.ue(max: 12) + 4
        s.picOrderCntType = try r.ue(max: 2)
        if s.picOrderCntType == 0 {
            s.log2MaxPicOrderCntLsb = try r.ue(max: 12) + 4
        } else if s.picOrderCntType == 1 {
            s.deltaPicOrderAlwaysZero = try r.bit()
            _ = try r.se()
            _ = try r.se()
            let cycle = try r.ue(max: 255)
            for _ in 0..<cycle { _ = try r.se() }
        }
        _ = try r.ue()   // max_num_ref_frames
        try r.skip(1)    // gaps_in_frame_num_value_allowed_flag
        _ = try r.ue()   // pic_width_in_mbs_minus1
        _ = try r.ue()   // pic_height_in_map_units_minus1
        s.frameMbsOnly = try r.bit()
        return (id, s)
    }

    private static func skipScalingList(_ r: inout BitReader, size: Int) throws(BitReader.Failure) {
        var last = 8, next = 8
        for _ in 0..<size {
            if next != 0 {
                let delta = try r.se()
                next = (last + delta + 256) % 256
            }
            last = next == 0 ? last : next
        }
    }

    static func parsePPS(_ r: inout BitReader) throws(BitReader.Failure) -> (Int, PictureParameterSet) {
        var p = PictureParameterSet()
        let id = try r.ue(max: 255)
        p.spsID = try r.ue(max: 31)
        p.entropyCodingMode = try r.bit()
        p.bottomFieldPicOrderInFramePresent = try r.bit()
        p.sliceGroups = try r.ue(max: 7) > 0
        if p.sliceGroups { return (id, p) }
        p.numRefIdxL0DefaultActive = try r.ue(max: 31) + 1
        p.numRefIdxL1DefaultActive = try r.ue(max: 31) + 1
        p.weightedPred = try r.bit()
        p.weightedBipredIDC = Int(try r.bits(2))
        _ = try r.se()  // pic_init_qp_minus26
        _ = try r.se()  // pic_init_qs_minus26
        _ = try r.se()  // chroma_qp_index_offset
        p.deblockingFilterControlPresent = try r.bit()
        try r.skip(1)   // constrained_intra_pred_flag
        p.redundantPicCntPresent = try r.bit()
        return (id, p)
    }

    /// The size in stored bytes of the slice header of a coded slice NAL unit (types 1 and 5),
    /// after its one-byte NAL header: the bytes holding any of its bits (the last one may also
    /// hold the first bits of the slice data). Nil when it cannot be parsed (unknown parameter
    /// sets, slice groups, damaged data).
    func sliceHeaderSize(_ nal: ArraySlice<UInt8>) -> Int? {
        guard let header = nal.first else { return nil }
        var r = BitReader(nal.dropFirst())
        return try? parseSliceHeader(&r, nalType: Int(header & 0x1f), nalRefIDC: Int(header >> 5) & 3)
    }

    private func parseSliceHeader(_ r: inout BitReader, nalType: Int, nalRefIDC: Int) throws(BitReader.Failure) -> Int {
        _ = try r.ue()                            // first_mb_in_slice
        let sliceType = try r.ue(max: 9) % 5      // P 0, B 1, I 2, SP 3, SI 4
        guard let p = pps[try r.ue(max: 255)], !p.sliceGroups, let s = sps[p.spsID] else { throw .invalid }
        if s.separateColourPlane { try r.skip(2) }  // colour_plane_id
        try r.skip(s.log2MaxFrameNum)               // frame_num
        var fieldPic = false
        if !s.frameMbsOnly {
            fieldPic = try r.bit()
            if fieldPic { try r.skip(1) }           // bottom_field_flag
        }
        if nalType == 5 { _ = try r.ue() }         // idr_pic_id
        if s.picOrderCntType == 0 {
            try r.skip(s.log2MaxPicOrderCntLsb)     // pic_order_cnt_lsb
            if p.bottomFieldPicOrderInFramePresent && !fieldPic { _ = try r.se() }
        }
        if s.picOrderCntType == 1 && !s.deltaPicOrderAlwaysZero {
            _ = try r.se()
            if p.bottomFieldPicOrderInFramePresent && !fieldPic { _ = try r.se() }
        }
        if p.redundantPicCntPresent { _ = try r.ue() }
        let isB = sliceType == 1, isP = sliceType == 0 || sliceType == 3
        if isB { try r.skip(1) }                    // direct_spatial_mv_pred_flag
        var l0 = p.numRefIdxL0DefaultActive, l1 = p.numRefIdxL1DefaultActive
        if isP || isB {
            if try r.bit() {                        // num_ref_idx_active_override_flag
                l0 = try r.ue(max: 31) + 1
                if isB { l1 = try r.ue(max: 31) + 1 }
            }
        }
        // ref_pic_list_modification()
        if sliceType != 2 && sliceType != 4 {
            for _ in 0..<(isB ? 2 : 1) {
                guard try r.bit() else { continue }  // ref_pic_list_modification_flag_lX
                while true {
                    let operation = try r.ue(max: 5)
                    if operation == 3 { break }
                    _ = try r.ue()
                }
            }
        }
        if (p.weightedPred && isP) || (p.weightedBipredIDC == 1 && isB) {
            _ = try r.ue()                                  // luma_log2_weight_denom
            if s.chromaArrayType != 0 { _ = try r.ue() }    // chroma_log2_weight_denom
            for count in (isB ? [l0, l1] : [l0]) {
                for _ in 0..<count {
                    if try r.bit() { _ = try r.se(); _ = try r.se() }
                    if s.chromaArrayType != 0, try r.bit() {
                        for _ in 0..<4 { _ = try r.se() }
                    }
                }
            }
        }
        if nalRefIDC != 0 {
            // dec_ref_pic_marking()
            if nalType == 5 {
                try r.skip(2)
            } else if try r.bit() {
                while true {
                    let operation = try r.ue(max: 6)
                    if operation == 0 { break }
                    if operation == 1 || operation == 3 { _ = try r.ue() }
                    if operation == 2 { _ = try r.ue() }
                    if operation == 3 || operation == 6 { _ = try r.ue() }
                    if operation == 4 { _ = try r.ue() }
                }
            }
        }
        if p.entropyCodingMode && sliceType != 2 && sliceType != 4 { _ = try r.ue() }  // cabac_init_idc
        _ = try r.se()                                       // slice_qp_delta
        if sliceType == 3 || sliceType == 4 {
            if sliceType == 3 { try r.skip(1) }              // sp_for_switch_flag
            _ = try r.se()                                   // slice_qs_delta
        }
        if p.deblockingFilterControlPresent {
            if try r.ue(max: 6) != 1 { _ = try r.se(); _ = try r.se() }
        }
        return r.storedBytesRead
    }
}
