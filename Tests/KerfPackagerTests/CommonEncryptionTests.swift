import KerfCore
import KerfCrypto
import KerfMedia
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfPackager

@Suite(.tags(.unit)) struct SubsampleMapTests {
    /// Slice header of the H.264 fixture (x264, High): its SPS has log2_max_frame_num 4,
    /// pic_order_cnt_type 0 with a 6-bit lsb, frame_mbs_only; its PPS CABAC, weighted P
    /// prediction, one reference by default, deblocking control. Size after the NAL header byte.
    static func h264Header(_ sample: [UInt8], _ offset: Int, _ length: Int) -> Int? {
        let nalType = Int(sample[offset] & 0x1f), refIDC = Int(sample[offset] >> 5)
        guard nalType == 1 || nalType == 5 else { return nil }
        var r = HandBits(sample[(offset + 1)..<(offset + length)])
        _ = r.ue()                       // first_mb_in_slice
        let type = r.ue() % 5            // slice_type
        #expect(r.ue() == 0)             // pic_parameter_set_id
        _ = r.u(4)                       // frame_num
        if nalType == 5 { _ = r.ue() }   // idr_pic_id
        _ = r.u(6)                       // pic_order_cnt_lsb
        if type == 1 { _ = r.u(1) }      // direct_spatial_mv_pred_flag
        if type != 2 {
            #expect(r.u(1) == 0)         // num_ref_idx_active_override_flag
            for _ in 0..<(type == 1 ? 2 : 1) where r.u(1) == 1 {  // ref_pic_list_modification_flag_lX
                while r.ue() != 3 { _ = r.ue() }                  // modification_of_pic_nums_idc, its value
            }
        }
        if type == 0 {                   // pred_weight_table, one reference
            _ = r.ue(); _ = r.ue()
            if r.u(1) == 1 { _ = r.se(); _ = r.se() }
            if r.u(1) == 1 { for _ in 0..<4 { _ = r.se() } }
        }
        if refIDC != 0 {
            if nalType == 5 {
                _ = r.u(2)                                        // dec_ref_pic_marking of an IDR picture
            } else if r.u(1) == 1 {                               // adaptive_ref_pic_marking_mode_flag
                while true {
                    let operation = r.ue()
                    if operation == 0 { break }
                    _ = r.ue()
                    if operation == 3 { _ = r.ue() }
                }
            }
        }
        if type != 2 { _ = r.ue() }      // cabac_init_idc
        _ = r.se()                       // slice_qp_delta
        if r.ue() != 1 { _ = r.se(); _ = r.se() }  // deblocking
        return 1 + r.stored
    }

    /// Slice segment header of the HEVC fixture (x265, Main): its SPS has no stored short-term
    /// reference picture sets, an 8-bit POC lsb, temporal MVP and no SAO; its PPS wavefront
    /// entry points, loop filtering across slices, no weighted prediction. Size after the
    /// NAL header's two bytes, through byte_alignment().
    static func hevcHeader(_ sample: [UInt8], _ offset: Int, _ length: Int) -> Int? {
        let nalType = Int(sample[offset] >> 1) & 0x3f
        guard (0...9).contains(nalType) || (16...21).contains(nalType) else { return nil }
        var r = HandBits(sample[(offset + 2)..<(offset + length)])
        #expect(r.u(1) == 1)                           // first_slice_segment_in_pic_flag
        if nalType >= 16 { _ = r.u(1) }               // no_output_of_prior_pics_flag
        #expect(r.ue() == 0)                           // slice_pic_parameter_set_id
        let type = r.ue()                              // B 0, P 1, I 2
        if nalType != 19 && nalType != 20 {
            _ = r.u(8)                                 // slice_pic_order_cnt_lsb
            #expect(r.u(1) == 0)                       // short_term_ref_pic_set_sps_flag
            let negative = r.ue(), positive = r.ue()
            for _ in 0..<(negative + positive) { _ = r.ue(); _ = r.u(1) }
            #expect(r.u(1) == 1)                       // slice_temporal_mvp_enabled_flag
        }
        if type != 2 {
            var l0 = 1, l1 = 1                         // the PPS's default reference counts
            if r.u(1) == 1 {                           // num_ref_idx_active_override_flag
                l0 = r.ue() + 1
                if type == 0 { l1 = r.ue() + 1 }
            }
            if type == 0 { _ = r.u(1) }                // mvd_l1_zero_flag
            let fromL0 = type == 0 ? r.u(1) == 1 : true  // collocated_from_l0_flag
            if (fromL0 ? l0 : l1) > 1 { _ = r.ue() }   // collocated_ref_idx
            _ = r.ue()                                 // five_minus_max_num_merge_cand
        }
        _ = r.se()                                     // slice_qp_delta
        _ = r.u(1)                                     // slice_loop_filter_across_slices_enabled_flag
        let entries = r.ue()
        if entries > 0 {
            let width = r.ue() + 1
            for _ in 0..<entries { _ = r.u(width) }
        }
        #expect(r.u(1) == 1)
        while r.bit != 0 { #expect(r.u(1) == 0) }
        return 2 + r.stored
    }

    @Test(arguments: [ProtectionScheme.cenc, .cbcs])
    func h264MapsFollowTheSliceHeaders(_ scheme: ProtectionScheme) throws {
        let (samples, extradata) = try videoSamples("h264_aac_10s.mp4", count: 12)
        var mapper = try #require(SubsampleMapper(codec: "h264", extradata: extradata, scheme: scheme))
        for (index, sample) in samples.enumerated() {
            let map = try mapper.map(sample)
            #expect(map == expectedMap(sample, headerSize: Self.h264Header, cenc: scheme == .cenc), "sample \(index)")
            #expect(map.reduce(0) { $0 + $1.clear + $1.protected } == sample.count)
        }
        // The first sample: SEI and IDR slice; the slice header ends 6 bytes into the NAL unit.
        let first = nalUnits(samples[0])
        #expect(first.map { samples[0][$0.offset] & 0x1f } == [6, 5])
        #expect(Self.h264Header(samples[0], first[1].offset, first[1].length) == 6)
    }

    @Test(arguments: [ProtectionScheme.cenc, .cbcs])
    func hevcMapsFollowTheSliceHeaders(_ scheme: ProtectionScheme) throws {
        let (samples, extradata) = try videoSamples("hevc_aac.mp4", count: 12)
        var mapper = try #require(SubsampleMapper(codec: "hevc", extradata: extradata, scheme: scheme))
        for (index, sample) in samples.enumerated() {
            let map = try mapper.map(sample)
            #expect(map == expectedMap(sample, headerSize: Self.hevcHeader, cenc: scheme == .cenc), "sample \(index)")
            #expect(map.reduce(0) { $0 + $1.clear + $1.protected } == sample.count)
        }
        // The IDR slice header (168 bits with its wavefront entry points) is 21 bytes.
        let idr = try #require(nalUnits(samples[0]).first { (samples[0][$0.offset] >> 1) & 0x3f == 20 })
        #expect(Self.hevcHeader(samples[0], idr.offset, idr.length) == 21)
    }

    /// cenc: every protected range is whole blocks; cbcs: it runs to the end of its NAL unit.
    @Test func cencKeepsWholeBlocksAndCbcsRunsToTheEndOfTheSlice() throws {
        let (samples, extradata) = try videoSamples("h264_aac_10s.mp4", count: 60)
        var cenc = try #require(SubsampleMapper(codec: "h264", extradata: extradata, scheme: .cenc))
        var cbcs = try #require(SubsampleMapper(codec: "h264", extradata: extradata, scheme: .cbcs))
        for sample in samples {
            let a = try cenc.map(sample), b = try cbcs.map(sample)
            #expect(a.allSatisfy { $0.protected % 16 == 0 })
            #expect(a.count == b.count)
            var end = 0
            let slices = nalUnits(sample).filter { [1, 5].contains(sample[$0.offset] & 0x1f) }.map { $0.offset + $0.length }
            var ends: [Int] = []
            for entry in b where entry.protected > 0 {
                end += entry.clear + entry.protected
                ends.append(end)
            }
            #expect(ends == slices)
            for (x, y) in zip(a, b) { #expect(x.protected <= y.protected && y.protected - x.protected < 16) }
        }
    }

    @Test func longClearRunsAreSplitAt65535() throws {
        // Two SEI NAL units of 40000 bytes, then an IDR slice.
        var mapper = try #require(SubsampleMapper(codec: "h264", extradata: [], scheme: .cenc))
        var sample: [UInt8] = []
        for _ in 0..<2 { sample += [0, 0, 0x9c, 0x40] + [6] + [UInt8](repeating: 0x11, count: 39_999) }
        sample += [0, 0, 0, 40] + [0x65] + [UInt8](repeating: 0x22, count: 39)
        let map = try mapper.map(sample)
        // Without parameter sets the IDR header is unknown: cenc protects whole blocks after the NAL header.
        #expect(map == [Subsample(clear: 65535, protected: 0), Subsample(clear: 80_008 - 65535 + 4 + 1 + 7, protected: 32)])
        var cbcs = try #require(SubsampleMapper(codec: "h264", extradata: [], scheme: .cbcs))
        #expect(throws: PackagerError.self) { try cbcs.map(sample) }
    }
}

// MARK: - senc, saiz, saio

@Suite(.tags(.unit)) struct SampleEncryptionBoxTests {
    private func fragment(sizes: [Int]) throws -> Fragment {
        var f = Fragment()
        for (i, size) in sizes.enumerated() {
            f.append(FragmentSample(decodeTime: Int64(i) * 512, duration: 512, size: size, isSync: i == 0, compositionOffset: 0),
                     packet: try Packet(bytes: [UInt8](repeating: UInt8(i), count: size)))
        }
        return f
    }

    @Test func saioPointsAtTheFirstSencEntryRelativeToTheMoof() throws {
        let entries = [
            SampleEncryptionEntry(iv: [1, 2, 3, 4, 5, 6, 7, 8], subsamples: [Subsample(clear: 10, protected: 32)]),
            SampleEncryptionEntry(iv: [1, 2, 3, 4, 5, 6, 7, 9], subsamples: [Subsample(clear: 5, protected: 0)]),
            SampleEncryptionEntry(iv: [1, 2, 3, 4, 5, 6, 7, 10], subsamples: [Subsample(clear: 7, protected: 16), Subsample(clear: 9, protected: 0)]),
        ]
        let f = try fragment(sizes: [42, 5, 32])
        var w = BoxWriter()
        w.bytes = Fragment.segmentType  // the moof does not start at 0
        let moofSize = f.serializeHeader(sequenceNumber: 1, trackID: 1, encryption: FragmentEncryption(entries: entries, usesSubsamples: true), into: &w)
        let bytes = w.bytes
        let moof = try #require(boxes(bytes, in: 0..<bytes.count).first { $0.type == "moof" })
        #expect(moof.size == moofSize)
        let traf = try child(bytes, of: moof, "traf")
        #expect(children(bytes, of: traf).map(\.type) == ["tfhd", "tfdt", "trun", "saiz", "saio", "senc"])

        let saiz = try child(bytes, of: traf, "saiz")
        #expect(u32(bytes, saiz.offset + 8) == 0)                 // version 0, no aux_info_type
        #expect(bytes[saiz.offset + 12] == 0)                     // sizes differ: a table follows
        #expect(u32(bytes, saiz.offset + 13) == 3)
        let sizes: [UInt8] = [16, 16, 22]  // 8-byte IV, subsample count, 6 bytes per subsample
        #expect(Array(bytes[(saiz.offset + 17)..<(saiz.offset + 20)]) == sizes)

        let saio = try child(bytes, of: traf, "saio")
        #expect(saio.size == 20)
        #expect(u32(bytes, saio.offset + 12) == 1)                // entry_count
        let offset = Int(u32(bytes, saio.offset + 16))
        let senc = try child(bytes, of: traf, "senc")
        #expect(moof.offset + offset == senc.offset + 16, "saio must point past senc's header and sample_count")
        #expect(u32(bytes, senc.offset + 8) == 0x2)               // subsample flag
        #expect(u32(bytes, senc.offset + 12) == 3)
        // The first entry, read where saio points.
        let at = moof.offset + offset
        #expect(Array(bytes[at..<(at + 8)]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(u16(bytes, at + 8) == 1 && u16(bytes, at + 10) == 10 && u32(bytes, at + 12) == 32)
        // Entries fill senc exactly, with the sizes saiz gives.
        #expect(senc.offset + senc.size - at == 16 + 16 + 22)

        // trun's data offset still lands on the payload (mdat header after the moof).
        let trun = try child(bytes, of: traf, "trun")
        #expect(Int(u32(bytes, trun.offset + 16)) == moofSize + 8)
    }

    @Test func constantIVAudioHasEmptyEntriesAndUniformIVsADefaultSize() throws {
        let f = try fragment(sizes: [10, 20])
        for (entries, size) in [([SampleEncryptionEntry(iv: [], subsamples: nil), SampleEncryptionEntry(iv: [], subsamples: nil)], 0),
                                ([SampleEncryptionEntry(iv: [0, 0, 0, 0, 0, 0, 0, 1], subsamples: nil),
                                  SampleEncryptionEntry(iv: [0, 0, 0, 0, 0, 0, 0, 2], subsamples: nil)], 8)] {
            var w = BoxWriter()
            f.serializeHeader(sequenceNumber: 1, trackID: 1, encryption: FragmentEncryption(entries: entries, usesSubsamples: false), into: &w)
            let bytes = w.bytes
            let traf = try child(bytes, of: boxes(bytes, in: 0..<bytes.count)[0], "traf")
            let saiz = try child(bytes, of: traf, "saiz"), senc = try child(bytes, of: traf, "senc")
            #expect(bytes[saiz.offset + 12] == UInt8(size))
            #expect(saiz.size == (size == 0 ? 17 + 2 : 17))   // a table of zero sizes when the default is 0
            #expect(u32(bytes, senc.offset + 8) == 0)
            #expect(senc.size == 16 + 2 * size)
            let saio = try child(bytes, of: traf, "saio")
            #expect(Int(u32(bytes, saio.offset + 16)) == senc.offset + 16)  // the moof starts at 0 here
        }
    }

    @Test func clearLeadFragmentsNameTheClearSampleEntry() throws {
        var w = BoxWriter()
        try fragment(sizes: [4]).serializeHeader(sequenceNumber: 1, trackID: 1, sampleDescriptionIndex: 2, into: &w)
        let bytes = w.bytes
        let traf = try child(bytes, of: boxes(bytes, in: 0..<bytes.count)[0], "traf")
        #expect(children(bytes, of: traf).map(\.type) == ["tfhd", "tfdt", "trun"])
        let tfhd = try child(bytes, of: traf, "tfhd")
        #expect(u32(bytes, tfhd.offset + 8) == 0x020002)
        #expect(u32(bytes, tfhd.offset + 16) == 2)
    }
}

// MARK: - Protected init segments

@Suite(.tags(.unit)) struct ProtectedInitSegmentTests {
    @Test(arguments: [ProtectionScheme.cenc, .cbcs])
    func sampleEntryWrapsTheOriginal(_ scheme: ProtectionScheme) throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let video = try #require(input.tracks.first { $0.mediaType == .video })
        let parameters = input.codecParameters(track: video.index)
        let clear = try InitSegment.make(parameters: parameters, timeBase: video.timeBase, language: nil, name: "test").bytes
        let key = try ContentKey(parsing: "00112233445566778899aabbccddeeff:000102030405060708090a0b0c0d0e0f")
        let encryptor = try TrackEncryptor(scheme: scheme, key: key, iv: nil, isVideo: true, codec: "h264",
                                           extradata: parameters.extradata, rendition: "video_360p")
        let pssh = ProtectionSystemHeader.box(systemID: ContentProtection.System.commonID, keyIDs: [key.keyID])
        let (bytes, format) = try InitSegment.protect(clear, isVideo: true, sinf: encryptor.protectionSchemeInfo(originalFormat:),
                                                      clearEntry: true, pssh: pssh)
        #expect(format == "avc1")
        func stsd(_ bytes: [UInt8]) throws -> Box {
            var box = try #require(boxes(bytes, in: 0..<bytes.count).first { $0.type == "moov" })
            for name in ["trak", "mdia", "minf", "stbl", "stsd"] { box = try child(bytes, of: box, name) }
            return box
        }
        let moov = try #require(boxes(bytes, in: 0..<bytes.count).first { $0.type == "moov" })
        #expect(moov.offset + moov.size == bytes.count)
        #expect(children(bytes, of: moov).last?.type == "pssh")
        let box = try stsd(bytes)
        #expect(u32(bytes, box.offset + 12) == 2)
        let entries = children(bytes, of: box, skipping: 16)
        #expect(entries.map { $0.type } == ["encv", "avc1"])
        // The clear entry is the original, byte for byte.
        let original = try #require(children(clear, of: try stsd(clear), skipping: 16).first)
        #expect(Array(bytes[entries[1].offset..<(entries[1].offset + entries[1].size)]) == Array(clear[original.offset..<(original.offset + original.size)]))
        // encv: the visual sample entry fields (78 bytes), then avcC…, then sinf.
        let sinf = try #require(children(bytes, of: entries[0], skipping: 8 + 78).last)
        #expect(sinf.type == "sinf")
        #expect(children(bytes, of: sinf).map(\.type) == ["frma", "schm", "schi"])
        let frma = try child(bytes, of: sinf, "frma"), schm = try child(bytes, of: sinf, "schm")
        #expect(String(decoding: bytes[(frma.offset + 8)..<(frma.offset + 12)], as: UTF8.self) == "avc1")
        #expect(String(decoding: bytes[(schm.offset + 12)..<(schm.offset + 16)], as: UTF8.self) == scheme.rawValue)
        #expect(u32(bytes, schm.offset + 16) == 0x10000)
        let tenc = try child(bytes, of: try child(bytes, of: sinf, "schi"), "tenc")
        let t = tenc.offset + 8
        #expect(Int(bytes[t]) == (scheme == .cbcs ? 1 : 0))        // version
        #expect(bytes[t + 5] == (scheme == .cbcs ? 0x19 : 0))       // crypt 1, skip 9
        #expect(bytes[t + 6] == 1)                                  // default_isProtected
        #expect(Array(bytes[(t + 8)..<(t + 24)]) == key.keyID)
        if scheme == .cenc {
            #expect(bytes[t + 7] == 8 && tenc.size == 32)
        } else {
            #expect(bytes[t + 7] == 0 && bytes[t + 24] == 16 && tenc.size == 32 + 17)
        }
    }
}

// MARK: - Encrypting in place

@Suite(.tags(.unit)) struct InPlaceEncryptionTests {
    /// A packet is encrypted in its own buffer; a packet sharing that buffer (the MPEG-TS
    /// writers' reference) keeps the clear bytes, and both paths give the same ciphertext.
    @Test(arguments: [ProtectionScheme.cenc, .cbcs])
    func sharedPayloadsStayClear(_ scheme: ProtectionScheme) throws {
        let key = try ContentKey(parsing: "00112233445566778899aabbccddeeff:000102030405060708090a0b0c0d0e0f")
        let sample = (0..<1000).map { UInt8(($0 * 7 + 3) & 0xff) }
        let packet = try Packet(bytes: sample), shared = try packet.makeReference()
        let inPlace = try TrackEncryptor(scheme: scheme, key: key, iv: nil, isVideo: false, codec: "aac", extradata: [], rendition: "a")
        let copied = try TrackEncryptor(scheme: scheme, key: key, iv: nil, isVideo: false, codec: "aac", extradata: [], rendition: "a")
        let entry = try inPlace.encrypt(packet, decodeTime: 0)
        var bytes = sample
        let expected = try copied.encrypt(&bytes)
        #expect(shared.bytes == sample)
        #expect(packet.bytes == bytes && bytes != sample)
        #expect(entry == expected)
        // cbcs leaves the partial last block clear.
        if scheme == .cbcs { #expect(Array(packet.bytes.suffix(1000 % 16)) == Array(sample.suffix(1000 % 16))) }
    }

    /// Live cenc: a sample's IV follows from its decode time, so an origin that joins later
    /// gives it the same IV (and bytes) as one that saw every sample before it.
    @Test func liveIVsFollowDecodeTimes() throws {
        let key = try ContentKey(parsing: "00112233445566778899aabbccddeeff:000102030405060708090a0b0c0d0e0f")
        func encryptor() throws -> TrackEncryptor {
            let made = try TrackEncryptor(scheme: .cenc, key: key, iv: nil, isVideo: false, codec: "aac", extradata: [], rendition: "a")
            made.ivFromDecodeTime = true
            return made
        }
        let early = try encryptor(), late = try encryptor()
        let first = try early.encrypt(try Packet(bytes: [UInt8](repeating: 1, count: 100)), decodeTime: 0)
        let second = try early.encrypt(try Packet(bytes: [UInt8](repeating: 2, count: 100)), decodeTime: 1024)
        let joined = try late.encrypt(try Packet(bytes: [UInt8](repeating: 2, count: 100)), decodeTime: 1024)
        #expect(second == joined && first.iv != second.iv)
        #expect(TrackEncryptor.add(first.iv, 1024) == second.iv)
    }
}
