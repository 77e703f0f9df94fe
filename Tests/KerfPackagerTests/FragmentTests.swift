import KerfMedia
import Testing
@testable import KerfPackager
import KerfTestTags

private struct Trun {
    var version: UInt8
    var flags: UInt32
    var sampleCount: Int
    var dataOffset: Int32
    var entries: [[UInt32]]
}

private func parseTrun(_ bytes: [UInt8], _ box: Box) -> Trun {
    let (version, flags) = fullBoxHeader(bytes, box)
    let count = Int(u32(bytes, box.offset + 12))
    let fieldsPerSample = [0x100, 0x200, 0x400, 0x800].filter { flags & UInt32($0) != 0 }.count
    var entries: [[UInt32]] = []
    var at = box.offset + 20
    for _ in 0..<count {
        entries.append((0..<fieldsPerSample).map { u32(bytes, at + 4 * $0) })
        at += 4 * fieldsPerSample
    }
    return Trun(version: version, flags: flags, sampleCount: count,
                dataOffset: Int32(bitPattern: u32(bytes, box.offset + 16)), entries: entries)
}

/// Three samples of 5, 3 and 4 bytes whose payloads are the bytes 1...12.
private func fragment(offsets: [Int64], firstDecodeTime: Int64 = 25_600) throws -> Fragment {
    var fragment = Fragment()
    let sizes = [5, 3, 4]
    var next: UInt8 = 1
    for (i, offset) in offsets.enumerated() {
        let payload = (0..<sizes[i]).map { _ -> UInt8 in defer { next += 1 }; return next }
        let sample = FragmentSample(decodeTime: firstDecodeTime + Int64(i) * 512, duration: 512, size: sizes[i],
                                    isSync: i == 0, compositionOffset: offset)
        fragment.append(sample, packet: try Packet(bytes: payload))
    }
    return fragment
}

/// The fragment as the track writer emits it: `moof` and `mdat` header, then each payload.
private func serialized(_ fragment: Fragment, sequenceNumber: UInt32 = 1, trackID: UInt32 = 1,
                        after prefix: [UInt8] = []) -> (bytes: [UInt8], moofSize: Int) {
    var w = BoxWriter()
    w.bytes = prefix
    let moofSize = fragment.serializeHeader(sequenceNumber: sequenceNumber, trackID: trackID, into: &w)
    var bytes = w.bytes
    for packet in fragment.packets { bytes += packet.bytes }
    return (bytes, moofSize)
}

@Suite(.tags(.unit)) struct FragmentTests {
    @Test func serializesMoofAndMdatAfterStyp() throws {
        let f = try fragment(offsets: [1024, 0, 512])
        let payload: [UInt8] = Array(1...12)
        #expect(f.baseDecodeTime == 25_600)
        #expect(f.endDecodeTime == 25_600 + 3 * 512)
        #expect(f.payloadSize == 12)
        #expect(f.packets.flatMap(\.bytes) == payload)

        let (bytes, moofSize) = serialized(f, sequenceNumber: 7, trackID: 2, after: Fragment.segmentType)

        let top = boxes(bytes)
        #expect(top.map(\.type) == ["styp", "moof", "mdat"])
        #expect(top.map(\.size).reduce(0, +) == bytes.count)
        let moof = top[1], mdat = top[2]
        #expect(moof.size == moofSize)
        #expect(mdat.size == 8 + 12)
        #expect(Array(bytes[mdat.offset + 8..<mdat.offset + mdat.size]) == payload)

        #expect(children(bytes, of: moof).map(\.type) == ["mfhd", "traf"])
        let mfhd = try child(bytes, of: moof, "mfhd")
        #expect(u32(bytes, mfhd.offset + 12) == 7)
        let traf = try child(bytes, of: moof, "traf")
        #expect(children(bytes, of: traf).map(\.type) == ["tfhd", "tfdt", "trun"])

        let tfhd = try child(bytes, of: traf, "tfhd")
        #expect(fullBoxHeader(bytes, tfhd).flags == 0x02_0000)  // default-base-is-moof
        #expect(u32(bytes, tfhd.offset + 12) == 2)
        let tfdt = try child(bytes, of: traf, "tfdt")
        #expect(fullBoxHeader(bytes, tfdt).version == 1)
        #expect(u64(bytes, tfdt.offset + 12) == 25_600)

        let trun = parseTrun(bytes, try child(bytes, of: traf, "trun"))
        #expect(trun.version == 0)
        #expect(trun.flags == 0x000F01)
        #expect(trun.sampleCount == 3)
        #expect(trun.entries == [
            [512, 5, 0x0200_0000, 1024],
            [512, 3, 0x0101_0000, 0],
            [512, 4, 0x0101_0000, 512],
        ])
        // data_offset is relative to the moof and lands on the first payload byte.
        #expect(Int(trun.dataOffset) == moofSize + 8)
        #expect(bytes[moof.offset + Int(trun.dataOffset)] == payload[0])
        #expect(Array(bytes[(moof.offset + Int(trun.dataOffset))...]) == payload)
    }

    @Test func trunIsVersionOneOnlyForNegativeCompositionOffsets() throws {
        let bytes = serialized(try fragment(offsets: [0, -512, 512])).bytes
        let traf = try child(bytes, of: boxes(bytes)[0], "traf")
        let trun = parseTrun(bytes, try child(bytes, of: traf, "trun"))
        #expect(trun.version == 1)
        #expect(trun.entries.map { Int32(bitPattern: $0[3]) } == [0, -512, 512])
    }

    @Test func trunOmitsCompositionOffsetsWhenAllZero() throws {
        let (bytes, moofSize) = serialized(try fragment(offsets: [0, 0, 0]))
        let top = boxes(bytes)
        #expect(top.map(\.type) == ["moof", "mdat"])
        let trunBox = try child(bytes, of: try child(bytes, of: top[0], "traf"), "trun")
        #expect(trunBox.size == 20 + 3 * 12)
        let trun = parseTrun(bytes, trunBox)
        #expect(trun.version == 0)
        #expect(trun.flags == 0x000701)
        #expect(trun.entries.map { $0.count } == [3, 3, 3])
        #expect(Int(trun.dataOffset) == moofSize + 8)
        #expect(bytes[Int(trun.dataOffset)] == 1)
    }

    @Test func emptyFragmentHasZeroTimes() {
        let f = Fragment()
        #expect(f.isEmpty)
        #expect(f.payloadSize == 0)
        #expect(f.baseDecodeTime == 0)
        #expect(f.endDecodeTime == 0)
    }

    @Test func segmentTypeIsACMAFStyp() {
        let styp = Fragment.segmentType
        #expect(styp.count == 24)
        #expect(u32(styp, 0) == 24)
        #expect(String(decoding: styp[4..<8], as: UTF8.self) == "styp")
        #expect(String(decoding: styp[8..<12], as: UTF8.self) == "cmfs")
        #expect(u32(styp, 12) == 0)
        // No msix: that brand promises a sidx in every segment (ISO/IEC 23009-1 §6.3.4.3).
        #expect(String(decoding: styp[16..<24], as: UTF8.self) == "cmfsmsdh")
    }
}

@Suite(.tags(.unit)) struct SegmentIndexTests {
    @Test func serializesReferences() {
        let sidx = SegmentIndex.serialize(trackID: 1, timescale: 12_800, earliestPresentationTime: 1024, references: [
            .init(size: 1000, duration: 76_800, startsWithSAP: true),
            .init(size: 2000, duration: 51_200, startsWithSAP: false),
        ])
        #expect(sidx.count == 40 + 2 * 12)
        let top = boxes(sidx)
        #expect(top.count == 1)
        #expect(top.first?.type == "sidx")
        #expect(top.first?.size == sidx.count)
        #expect(sidx[8] == 1)                      // version 1: 64-bit times
        #expect(u32(sidx, 12) == 1)                // reference_ID
        #expect(u32(sidx, 16) == 12_800)           // timescale
        #expect(u64(sidx, 20) == 1024)             // earliest_presentation_time
        #expect(u64(sidx, 28) == 0)                // first_offset
        #expect(u16(sidx, 36) == 0)                // reserved
        #expect(u16(sidx, 38) == 2)                // reference_count
        #expect(u32(sidx, 40) == 1000)             // reference_type 0, referenced_size
        #expect(u32(sidx, 44) == 76_800)
        #expect(u32(sidx, 48) == 0x9000_0000)      // starts_with_SAP, SAP_type 1
        #expect(u32(sidx, 52) == 2000)
        #expect(u32(sidx, 56) == 51_200)
        #expect(u32(sidx, 60) == 0)
    }

    @Test func emptyIndexHasZeroReferences() {
        let sidx = SegmentIndex.serialize(trackID: 3, timescale: 48_000, earliestPresentationTime: 0, references: [])
        #expect(sidx.count == 40)
        #expect(u16(sidx, 38) == 0)
    }
}

@Suite(.tags(.unit)) struct BoxWriterTests {
    @Test func writesBigEndianIntegersAndPatchesSizes() {
        var w = BoxWriter()
        w.box("abcd") { b in
            b.u8(0x01)
            b.u16(0x0203)
            b.u32(0x0405_0607)
            b.u64(0x0809_0a0b_0c0d_0e0f)
            b.fullBox("full", version: 1, flags: 0x0A_0B0C) { $0.fourCC("xyzw-ignored") }
        }
        let expected: [UInt8] = [
            0, 0, 0, 39, 0x61, 0x62, 0x63, 0x64,                    // size 39, "abcd"
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,               // u8, u16, u32
            0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,         // u64
            0, 0, 0, 16, 0x66, 0x75, 0x6c, 0x6c,                    // size 16, "full"
            0x01, 0x0A, 0x0B, 0x0C,                                 // version, flags
            0x78, 0x79, 0x7a, 0x77,                                 // fourCC keeps 4 bytes
        ]
        #expect(w.bytes == expected)
    }

    @Test func topLevelStopsAtMalformedHeaders() {
        var w = BoxWriter()
        w.box("free") { $0.u32(0) }
        let valid = w.bytes
        // A truncated box claiming 100 bytes.
        let truncated = valid + [0, 0, 0, 100, 0x6d, 0x64, 0x61, 0x74, 1, 2]
        #expect(Boxes.topLevel(truncated).map(\.type) == ["free"])
        // A size below 8 is malformed.
        #expect(Boxes.topLevel([0, 0, 0, 4, 0x66, 0x72, 0x65, 0x65]).isEmpty)
        // Size 0 extends to the end of the data.
        let open = valid + [0, 0, 0, 0, 0x6d, 0x64, 0x61, 0x74, 9, 9, 9]
        let top = Boxes.topLevel(open)
        #expect(top.map(\.type) == ["free", "mdat"])
        #expect(top.last?.offset == 12)
        #expect(top.last?.size == 11)
    }
}
