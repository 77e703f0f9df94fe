/// Slice segment headers (ITU-T H.265 §7.3.6): where they end.
extension HEVCParameterSets {
    /// The size in stored bytes of the slice segment header of a coded slice NAL unit (types
    /// 0–9 and 16–21), after its two-byte NAL header, through its byte_alignment(). Nil when it
    /// cannot be parsed.
    func sliceHeaderSize(_ nal: ArraySlice<UInt8>) -> Int? {
        guard nal.count > 2 else { return nil }
        var r = BitReader(nal.dropFirst(2))
        return try? parseSliceHeader(&r, nalType: Self.type(nal))
    }

    private func parseSliceHeader(_ r: inout BitReader, nalType: Int) throws(BitReader.Failure) -> Int {
        let firstSlice = try r.bit()
        if (16...23).contains(nalType) { try r.skip(1) }  // no_output_of_prior_pics_flag
        guard let p = pps[try r.ue(max: 63)], !p.unsupportedExtension, let s = sps[p.spsID] else { throw .invalid }
        var dependent = false
        if !firstSlice {
            if p.dependentSliceSegments { dependent = try r.bit() }
            try r.skip(ceilLog2(s.picSizeInCtbs))  // slice_segment_address
        }
        if !dependent {
            try r.skip(p.extraSliceHeaderBits)
            let sliceType = try r.ue(max: 2)  // B 0, P 1, I 2
            if p.outputFlagPresent { try r.skip(1) }
            if s.separateColourPlane { try r.skip(2) }
            var temporalMVP = false
            var pictures = 0  // NumPicTotalCurr
            if nalType != 19 && nalType != 20 {
                try r.skip(s.log2MaxPicOrderCntLsb)  // slice_pic_order_cnt_lsb
                let set: ReferencePictureSet
                if try !r.bit() {  // short_term_ref_pic_set_sps_flag
                    set = try Self.parseReferencePictureSet(&r, index: s.shortTermSets.count, sets: s.shortTermSets)
                } else {
                    var index = 0
                    if s.shortTermSets.count > 1 { index = Int(try r.bits(ceilLog2(s.shortTermSets.count))) }
                    guard index < s.shortTermSets.count else { throw .invalid }
                    set = s.shortTermSets[index]
                }
                pictures = set.usedByCurrentPicture
                if s.longTermPresent {
                    var fromSPS = 0
                    if !s.longTermUsedByCurrent.isEmpty { fromSPS = try r.ue(max: s.longTermUsedByCurrent.count) }
                    let fromSlice = try r.ue(max: 32)
                    let count = fromSPS + fromSlice
                    for i in 0..<count {
                        if i < fromSPS {
                            var index = 0
                            if s.longTermUsedByCurrent.count > 1 { index = Int(try r.bits(ceilLog2(s.longTermUsedByCurrent.count))) }
                            guard index < s.longTermUsedByCurrent.count else { throw .invalid }
                            if s.longTermUsedByCurrent[index] { pictures += 1 }
                        } else {
                            try r.skip(s.log2MaxPicOrderCntLsb)
                            if try r.bit() { pictures += 1 }
                        }
                        if try r.bit() { _ = try r.ue() }  // delta_poc_msb_present_flag, delta_poc_msb_cycle_lt
                    }
                }
                if s.temporalMVP { temporalMVP = try r.bit() }
            }
            var saoLuma = false, saoChroma = false
            if s.sampleAdaptiveOffset {
                saoLuma = try r.bit()
                if s.chromaArrayType != 0 { saoChroma = try r.bit() }
            }
            if sliceType != 2 {
                let isB = sliceType == 0
                var l0 = p.numRefIdxL0DefaultActive, l1 = isB ? p.numRefIdxL1DefaultActive : 0
                if try r.bit() {  // num_ref_idx_active_override_flag
                    l0 = try r.ue(max: 14) + 1
                    if isB { l1 = try r.ue(max: 14) + 1 }
                }
                if p.listsModificationPresent && pictures > 1 {
                    let width = ceilLog2(pictures)
                    if try r.bit() { try r.skip(width * l0) }
                    if isB, try r.bit() { try r.skip(width * l1) }
                }
                if isB { try r.skip(1) }                // mvd_l1_zero_flag
                if p.cabacInitPresent { try r.skip(1) } // cabac_init_flag
                if temporalMVP {
                    var fromL0 = true
                    if isB { fromL0 = try r.bit() }
                    if (fromL0 && l0 > 1) || (!fromL0 && l1 > 1) { _ = try r.ue() }  // collocated_ref_idx
                }
                if (p.weightedPred && !isB) || (p.weightedBipred && isB) {
                    _ = try r.ue()                                    // luma_log2_weight_denom
                    if s.chromaArrayType != 0 { _ = try r.se() }      // delta_chroma_log2_weight_denom
                    for count in (isB ? [l0, l1] : [l0]) {
                        var luma: [Bool] = [], chroma: [Bool] = []
                        for _ in 0..<count {
                            let flag = try r.bit()
                            luma.append(flag)
                        }
                        if s.chromaArrayType != 0 {
                            for _ in 0..<count {
                                let flag = try r.bit()
                                chroma.append(flag)
                            }
                        }
                        for i in 0..<count {
                            if luma[i] { _ = try r.se(); _ = try r.se() }
                            if !chroma.isEmpty && chroma[i] { for _ in 0..<4 { _ = try r.se() } }
                        }
                    }
                }
                _ = try r.ue()  // five_minus_max_num_merge_cand
            }
            _ = try r.se()      // slice_qp_delta
            if p.sliceChromaQPOffsetsPresent { _ = try r.se(); _ = try r.se() }
            if p.chromaQPOffsetList { try r.skip(1) }  // cu_chroma_qp_offset_enabled_flag
            var deblockingDisabled = p.deblockingDisabled
            if p.deblockingOverrideEnabled, try r.bit() {  // deblocking_filter_override_flag
                deblockingDisabled = try r.bit()
                if !deblockingDisabled { _ = try r.se(); _ = try r.se() }
            }
            if p.loopFilterAcrossSlices && (saoLuma || saoChroma || !deblockingDisabled) { try r.skip(1) }
        }
        if p.tilesOrEntropySync {
            let entryPoints = try r.ue(max: 1 << 16)
            if entryPoints > 0 {
                let width = try r.ue(max: 31) + 1
                try r.skip(width * entryPoints)
            }
        }
        if p.sliceHeaderExtensionPresent {
            let extensionLength = try r.ue(max: 256)
            try r.skip(8 * extensionLength)
        }
        // byte_alignment(): a one bit, then zero bits to the byte boundary.
        guard try r.bit() else { throw .invalid }
        while !r.isByteAligned { guard try !r.bit() else { throw .invalid } }
        return r.storedBytesRead
    }
}
