/// HEVC parameter sets and slice segment headers, as far as needed to find where a slice
/// segment header ends (ITU-T H.265 §7.3.2.2, §7.3.2.3, §7.3.6, §7.3.7): what `cbcs` leaves
/// clear in front of the slice data. Parameter sets come from the hvcC record and from samples
/// that carry them. Range, multilayer, 3D and screen-content extensions of the PPS that change
/// slice headers are not parsed: slices using such a PPS report no size.
struct HEVCParameterSets {
    /// A short-term reference picture set: its negative and positive POC deltas and whether
    /// each is used by the current picture (§7.4.8).
    struct ReferencePictureSet {
        var negative: [(delta: Int, used: Bool)] = []
        var positive: [(delta: Int, used: Bool)] = []
        var count: Int { negative.count + positive.count }
        var usedByCurrentPicture: Int { negative.filter(\.used).count + positive.filter(\.used).count }
    }

    struct SequenceParameterSet {
        var separateColourPlane = false
        var chromaArrayType = 1
        var picSizeInCtbs = 1
        var log2MaxPicOrderCntLsb = 4
        var shortTermSets: [ReferencePictureSet] = []
        var longTermPresent = false
        var longTermUsedByCurrent: [Bool] = []
        var temporalMVP = false
        var sampleAdaptiveOffset = false
    }

    struct PictureParameterSet {
        var spsID = 0
        var dependentSliceSegments = false
        var outputFlagPresent = false
        var extraSliceHeaderBits = 0
        var cabacInitPresent = false
        var numRefIdxL0DefaultActive = 1
        var numRefIdxL1DefaultActive = 1
        var sliceChromaQPOffsetsPresent = false
        var weightedPred = false
        var weightedBipred = false
        var tilesOrEntropySync = false
        var loopFilterAcrossSlices = false
        var deblockingOverrideEnabled = false
        var deblockingDisabled = false
        var listsModificationPresent = false
        var sliceHeaderExtensionPresent = false
        var chromaQPOffsetList = false
        /// Extensions Kerf does not parse (multilayer, 3D, screen content).
        var unsupportedExtension = false
    }

    var sps: [Int: SequenceParameterSet] = [:]
    var pps: [Int: PictureParameterSet] = [:]

    /// The parameter sets of an hvcC record (ISO/IEC 14496-15 §8.3.3.1).
    init(hvcC record: [UInt8]) {
        guard record.count > 23, record[0] == 1 else { return }
        var offset = 23
        var units: [ArraySlice<UInt8>] = []
        for _ in 0..<Int(record[22]) {
            guard offset + 3 <= record.count else { break }
            let count = Int(record[offset + 1]) << 8 | Int(record[offset + 2])
            offset += 3
            for _ in 0..<count {
                guard offset + 2 <= record.count else { break }
                let length = Int(record[offset]) << 8 | Int(record[offset + 1])
                offset += 2
                guard offset + length <= record.count else { break }
                units.append(record[offset..<(offset + length)])
                offset += length
            }
        }
        // SPSs before PPSs: a PPS is read against its SPS.
        for unit in units.sorted(by: { Self.type($0) < Self.type($1) }) { take(unit) }
    }

    static func type(_ nal: ArraySlice<UInt8>) -> Int { nal.first.map { Int($0 >> 1) & 0x3f } ?? -1 }

    /// Learns an SPS or PPS NAL unit (two-byte header included); others are ignored, and so is
    /// a parameter set that cannot be read.
    mutating func take(_ nal: ArraySlice<UInt8>) {
        guard nal.count > 2 else { return }
        var reader = BitReader(nal.dropFirst(2))
        switch Self.type(nal) {
        case 33: if let (id, set) = try? Self.parseSPS(&reader) { sps[id] = set }
        case 34: if let (id, set) = try? Self.parsePPS(&reader) { pps[id] = set }
        default: break
        }
    }

    private static func skipProfileTierLevel(_ r: inout BitReader, maxSubLayersMinus1: Int) throws(BitReader.Failure) {
        try r.skip(96)  // general profile (88 bits) and general_level_idc
        var profilePresent: [Bool] = [], levelPresent: [Bool] = []
        for _ in 0..<maxSubLayersMinus1 {
            profilePresent.append(try r.bit())
            levelPresent.append(try r.bit())
        }
        if maxSubLayersMinus1 > 0 { try r.skip(2 * (8 - maxSubLayersMinus1)) }
        for i in 0..<maxSubLayersMinus1 {
            if profilePresent[i] { try r.skip(88) }
            if levelPresent[i] { try r.skip(8) }
        }
    }

    private static func skipScalingListData(_ r: inout BitReader) throws(BitReader.Failure) {
        for sizeID in 0..<4 {
            for _ in stride(from: 0, to: 6, by: sizeID == 3 ? 3 : 1) {
                if try !r.bit() {                      // scaling_list_pred_mode_flag
                    _ = try r.ue()                     // scaling_list_pred_matrix_id_delta
                } else {
                    let coefficients = min(64, 1 << (4 + (sizeID << 1)))
                    if sizeID > 1 { _ = try r.se() }   // scaling_list_dc_coef_minus8
                    for _ in 0..<coefficients { _ = try r.se() }
                }
            }
        }
    }

    /// st_ref_pic_set(index) (§7.3.7), with the derivation of §7.4.8 for predicted sets.
    static func parseReferencePictureSet(_ r: inout BitReader, index: Int, sets: [ReferencePictureSet]) throws(BitReader.Failure) -> ReferencePictureSet {
        var set = ReferencePictureSet()
        if index != 0, try r.bit() {  // inter_ref_pic_set_prediction_flag
            var deltaIndex = 1
            if index == sets.count { deltaIndex = try r.ue(max: sets.count - 1) + 1 }
            let sign = try r.bit()
            let magnitude = try r.ue(max: 1 << 15) + 1
            let deltaRps = sign ? -magnitude : magnitude
            guard index - deltaIndex >= 0, index - deltaIndex < sets.count else { throw .invalid }
            let reference = sets[index - deltaIndex]
            var used: [Bool] = [], useDelta: [Bool] = []
            for _ in 0...reference.count {
                let u = try r.bit()
                used.append(u)
                if u { useDelta.append(true) } else { useDelta.append(try r.bit()) }
            }
            let negatives = reference.negative.count, all = reference.count
            for j in stride(from: reference.positive.count - 1, through: 0, by: -1) {
                let delta = reference.positive[j].delta + deltaRps
                if delta < 0 && useDelta[negatives + j] { set.negative.append((delta, used[negatives + j])) }
            }
            if deltaRps < 0 && useDelta[all] { set.negative.append((deltaRps, used[all])) }
            for j in 0..<negatives {
                let delta = reference.negative[j].delta + deltaRps
                if delta < 0 && useDelta[j] { set.negative.append((delta, used[j])) }
            }
            for j in stride(from: negatives - 1, through: 0, by: -1) {
                let delta = reference.negative[j].delta + deltaRps
                if delta > 0 && useDelta[j] { set.positive.append((delta, used[j])) }
            }
            if deltaRps > 0 && useDelta[all] { set.positive.append((deltaRps, used[all])) }
            for j in 0..<reference.positive.count {
                let delta = reference.positive[j].delta + deltaRps
                if delta > 0 && useDelta[negatives + j] { set.positive.append((delta, used[negatives + j])) }
            }
            return set
        }
        let negatives = try r.ue(max: 16), positives = try r.ue(max: 16)
        var poc = 0
        for _ in 0..<negatives {
            poc -= try r.ue(max: 1 << 15) + 1
            let used = try r.bit()
            set.negative.append((poc, used))
        }
        poc = 0
        for _ in 0..<positives {
            poc += try r.ue(max: 1 << 15) + 1
            let used = try r.bit()
            set.positive.append((poc, used))
        }
        return set
    }

    static func parseSPS(_ r: inout BitReader) throws(BitReader.Failure) -> (Int, SequenceParameterSet) {
        var s = SequenceParameterSet()
        try r.skip(4)  // sps_video_parameter_set_id
        let maxSubLayersMinus1 = Int(try r.bits(3))
        try r.skip(1)  // sps_temporal_id_nesting_flag
        try skipProfileTierLevel(&r, maxSubLayersMinus1: maxSubLayersMinus1)
        let id = try r.ue(max: 15)
        let chromaFormat = try r.ue(max: 3)
        if chromaFormat == 3 { s.separateColourPlane = try r.bit() }
        s.chromaArrayType = s.separateColourPlane ? 0 : chromaFormat
        let width = try r.ue(max: 1 << 16), height = try r.ue(max: 1 << 16)
        if try r.bit() { for _ in 0..<4 { _ = try r.ue() } }  // conformance window
        _ = try r.ue()  // bit_depth_luma_minus8
        _ = try r.ue()  // bit_depth_chroma_minus8
        s.log2MaxPicOrderCntLsb = try r.ue(max: 12) + 4
        let orderingInfo = try r.bit()
        for _ in (orderingInfo ? 0 : maxSubLayersMinus1)...maxSubLayersMinus1 {
            _ = try r.ue(); _ = try r.ue(); _ = try r.ue()
        }
        let log2MinCb = try r.ue(max: 4) + 3
        let log2DiffCb = try r.ue(max: 3)
        let log2Ctb = log2MinCb + log2DiffCb
        _ = try r.ue()  // log2_min_luma_transform_block_size_minus2
        _ = try r.ue()  // log2_diff_max_min_luma_transform_block_size
        _ = try r.ue()  // max_transform_hierarchy_depth_inter
        _ = try r.ue()  // max_transform_hierarchy_depth_intra
        if try r.bit(), try r.bit() { try skipScalingListData(&r) }  // scaling lists enabled, data present
        try r.skip(1)   // amp_enabled_flag
        s.sampleAdaptiveOffset = try r.bit()
        if try r.bit() {  // pcm_enabled_flag
            try r.skip(8)
            _ = try r.ue(); _ = try r.ue()
            try r.skip(1)
        }
        let setCount = try r.ue(max: 64)
        for index in 0..<setCount {
            s.shortTermSets.append(try parseReferencePictureSet(&r, index: index, sets: s.shortTermSets))
        }
        s.longTermPresent = try r.bit()
        if s.longTermPresent {
            let count = try r.ue(max: 32)
            for _ in 0..<count {
                try r.skip(s.log2MaxPicOrderCntLsb)
                let used = try r.bit()
                s.longTermUsedByCurrent.append(used)
            }
        }
        s.temporalMVP = try r.bit()
        let ctb = 1 << log2Ctb
        s.picSizeInCtbs = ((width + ctb - 1) / ctb) * ((height + ctb - 1) / ctb)
        return (id, s)
    }

    static func parsePPS(_ r: inout BitReader) throws(BitReader.Failure) -> (Int, PictureParameterSet) {
        var p = PictureParameterSet()
        let id = try r.ue(max: 63)
        p.spsID = try r.ue(max: 15)
        p.dependentSliceSegments = try r.bit()
        p.outputFlagPresent = try r.bit()
        p.extraSliceHeaderBits = Int(try r.bits(3))
        try r.skip(1)  // sign_data_hiding_enabled_flag
        p.cabacInitPresent = try r.bit()
        p.numRefIdxL0DefaultActive = try r.ue(max: 14) + 1
        p.numRefIdxL1DefaultActive = try r.ue(max: 14) + 1
        _ = try r.se()  // init_qp_minus26
        try r.skip(1)   // constrained_intra_pred_flag
        let transformSkip = try r.bit()
        if try r.bit() { _ = try r.ue() }  // cu_qp_delta_enabled_flag, diff_cu_qp_delta_depth
        _ = try r.se(); _ = try r.se()     // pps_cb_qp_offset, pps_cr_qp_offset
        p.sliceChromaQPOffsetsPresent = try r.bit()
        p.weightedPred = try r.bit()
        p.weightedBipred = try r.bit()
        try r.skip(1)  // transquant_bypass_enabled_flag
        let tiles = try r.bit()
        let entropySync = try r.bit()
        p.tilesOrEntropySync = tiles || entropySync
        if tiles {
            let columns = try r.ue(max: 64), rows = try r.ue(max: 64)
            if try !r.bit() {  // uniform_spacing_flag
                for _ in 0..<(columns + rows) { _ = try r.ue() }
            }
            try r.skip(1)  // loop_filter_across_tiles_enabled_flag
        }
        p.loopFilterAcrossSlices = try r.bit()
        if try r.bit() {  // deblocking_filter_control_present_flag
            p.deblockingOverrideEnabled = try r.bit()
            p.deblockingDisabled = try r.bit()
            if !p.deblockingDisabled { _ = try r.se(); _ = try r.se() }
        }
        if try r.bit() { try skipScalingListData(&r) }
        p.listsModificationPresent = try r.bit()
        _ = try r.ue()  // log2_parallel_merge_level_minus2
        p.sliceHeaderExtensionPresent = try r.bit()
        if try r.bit() {  // pps_extension_present_flag
            let range = try r.bit()
            let others = try r.bits(3)  // multilayer, 3D, SCC
            try r.skip(4)
            p.unsupportedExtension = others != 0
            if range {
                if transformSkip { _ = try r.ue() }
                try r.skip(1)  // cross_component_prediction_enabled_flag
                p.chromaQPOffsetList = try r.bit()
            }
        }
        return (id, p)
    }
}
