import Testing
@testable import KerfCore
import KerfTestTags

/// SCTE-35 splice_info_sections read and written. The hex sections below were encoded by
/// threefive 3.1 (PyPI, the SCTE-35 reference library) from the fields named in each test, or
/// are SCTE 35's own samples as threefive re-encodes them: each must parse to those fields and
/// encode back to the same bytes.
@Suite(.tags(.unit)) struct SpliceInfoSectionTests {
    static func bytes(_ hex: String) -> [UInt8] { Hex.bytes(hex)! }

    /// splice_insert, out of network, event 1234, splice at 12.421333 s, 6 s break, auto-return.
    static let insertOut = bytes("0xfc302500000000000000fff01405000004d27feffe00110ee0fe00083d60000100000000d939d4a8")
    /// splice_insert, back to the network, event 1234 at 18.421333 s.
    static let insertIn = bytes("0xfc302000000000000000fff00f05000004d27f4ffe00194c40000100000000b2adb96d")
    /// splice_insert, splice_immediate, event 77, 30 s break without auto-return, avail 1 of 2.
    static let insertImmediate = bytes("0xfc302000000000000000fff00f050000004d7fff7e002932e0000001020000464403e1")
    /// splice_insert at 95000 s with pts_adjustment 0.5 s.
    static let insertAdjusted = bytes("0xfc302500000000afc800fff01405000004d27feffffd9ea580fe00083d60000000000000deaa56e6")
    /// splice_insert cancelling event 99.
    static let insertCancel = bytes("0xfc301600000000000000fff0050500000063ff000032087deb")
    static let spliceNull = bytes("0xfc301100000000000000fff0000000007a4fbfff")
    /// SCTE 35's time_signal sample: provider placement opportunity start (0x34), 307 s, AiringID UPID.
    static let timeSignalPlacement = bytes(
        "0xfc3034000000000000fffff00506fe72bd0050001e021c435545494800008e7fcf0001a599b00808000000002ca0a18a3402009ac9d17e")
    /// SCTE 35's time_signal sample with two descriptors: placement opportunity end (0x35), break end (0x23).
    static let timeSignalEnds = bytes(
        "0xfc3048000000000000fffff00506ffb41ebb860032021743554549400001127f9f0808000000002f313c05350000021743554549400000457f9f0808000000002f313cde230000bcaeaea6")

    static let all = [insertOut, insertIn, insertImmediate, insertAdjusted, insertCancel, spliceNull, timeSignalPlacement, timeSignalEnds]

    @Test func threefiveSectionsRoundTrip() throws {
        for bytes in Self.all {
            let section = try SpliceInfoSection.parse(bytes)
            #expect(section.encoded() == bytes, "\(Hex.string(bytes))")
        }
    }

    @Test func spliceInsertFields() throws {
        let out = try SpliceInfoSection.parse(Self.insertOut)
        guard case .insert(let insert) = out.command else { Issue.record("not a splice_insert"); return }
        #expect(insert.eventID == 1234 && insert.outOfNetwork && insert.programSplice && !insert.spliceImmediate)
        #expect(insert.breakDuration == BreakDuration(autoReturn: true, duration: 540_000))
        #expect(insert.uniqueProgramID == 1)
        #expect(out.spliceTime == 1_117_920)  // 12.421333 s
        #expect(out.signal == .out && out.eventID == 1234 && out.duration == 540_000)
        let back = try SpliceInfoSection.parse(Self.insertIn)
        #expect(back.signal == .in && back.spliceTime == 1_657_920 && back.duration == nil)
        let immediate = try SpliceInfoSection.parse(Self.insertImmediate)
        guard case .insert(let now) = immediate.command else { Issue.record("not a splice_insert"); return }
        #expect(now.spliceImmediate && now.spliceTime == nil && immediate.spliceTime == nil)
        #expect(now.breakDuration == BreakDuration(autoReturn: false, duration: 2_700_000))
        #expect(now.availNum == 1 && now.availsExpected == 2)
        let cancel = try SpliceInfoSection.parse(Self.insertCancel)
        #expect(cancel.signal == .cancel && cancel.eventID == 99)
        #expect(try SpliceInfoSection.parse(Self.spliceNull).command == .null)
    }

    @Test func ptsAdjustmentIsAddedModulo2To33() throws {
        let adjusted = try SpliceInfoSection.parse(Self.insertAdjusted)
        #expect(adjusted.ptsAdjustment == 45_000)
        #expect(adjusted.spliceTime == 95_000 * 90_000 + 45_000)
        var wrapping = SpliceInfoSection(command: .timeSignal(SpliceInfoSection.ptsModulus - 90_000), ptsAdjustment: 180_000)
        #expect(wrapping.spliceTime == 90_000)
        wrapping = try SpliceInfoSection.parse(wrapping.encoded())
        #expect(wrapping.spliceTime == 90_000)
    }

    /// A 33-bit splice time read near a time that does not wrap (the demuxer's, a looped file's).
    @Test func spliceTimesUnwrapNearTheirArrival() {
        let ninety = SpliceInfoSection.clockRate
        // Past the 2^33 wrap: a small count is just after it.
        let wrap = MediaTime(value: Int64(SpliceInfoSection.ptsModulus) - 90_000, timescale: ninety)
        #expect(SpliceInfoSection.unwrapped(180_000, near: wrap) == MediaTime(value: Int64(SpliceInfoSection.ptsModulus) + 180_000, timescale: ninety))
        // Near the start, a count close to 2^33 is just before zero.
        #expect(SpliceInfoSection.unwrapped(SpliceInfoSection.ptsModulus - 90_000, near: MediaTime(value: 1, timescale: 1))
                == MediaTime(value: -90_000, timescale: ninety))
        // Otherwise the count itself.
        #expect(SpliceInfoSection.unwrapped(450_000, near: MediaTime(value: 3, timescale: 1)) == MediaTime(value: 450_000, timescale: ninety))
    }

    @Test func segmentationDescriptors() throws {
        let placement = try SpliceInfoSection.parse(Self.timeSignalPlacement)
        #expect(placement.command == .timeSignal(0x72bd_0050))
        #expect(placement.tier == 0xfff)
        let d = try #require(placement.segmentationDescriptors.first)
        #expect(d.eventID == 0x4800_008e && d.typeID == 0x34 && d.duration == 307 * 90_000)
        #expect(d.upidType == 0x08 && d.upid == [0, 0, 0, 0, 0x2c, 0xa0, 0xa1, 0x8a])
        #expect(d.restrictions == .init(webDeliveryAllowed: false, noRegionalBlackout: true, archiveAllowed: true, deviceRestrictions: 3))
        #expect(d.segmentNum == 2 && d.segmentsExpected == 0 && d.subSegment == nil)
        #expect(placement.signal == .out && placement.eventID == 0x4800_008e && placement.duration == 307 * 90_000)
        let ends = try SpliceInfoSection.parse(Self.timeSignalEnds)
        #expect(ends.segmentationDescriptors.map(\.typeID) == [0x35, 0x23])
        #expect(ends.signal == .in)
    }

    @Test func builtSectionsRoundTrip() throws {
        let last = SpliceInsert(eventID: 1, spliceTime: SpliceInfoSection.ptsModulus - 1, breakDuration: BreakDuration(autoReturn: false, duration: 1))
        // A component splice: times per component, none for the program.
        var insert = SpliceInsert(eventID: 0xdead_beef, breakDuration: BreakDuration(autoReturn: true, duration: 2_700_000))
        insert.programSplice = false
        insert.components = [.init(tag: 1, spliceTime: 900), .init(tag: 2, spliceTime: nil)]
        var descriptor = SegmentationDescriptor(eventID: 7, typeID: 0x36, duration: 0xff_ffff_ffff, upidType: 0x0c,
                                                upid: Array("MPU-example".utf8))
        descriptor.subSegment = (num: 1, expected: 3)
        descriptor.components = [.init(tag: 5, ptsOffset: 42)]
        descriptor.restrictions = .init(webDeliveryAllowed: true, noRegionalBlackout: false, archiveAllowed: true, deviceRestrictions: 1)
        let sections = [
            SpliceInfoSection(command: .insert(insert), descriptors: [.segmentation(descriptor)], ptsAdjustment: 12_345),
            SpliceInfoSection(command: .timeSignal(nil), descriptors: [.other(tag: 0, identifier: SegmentationDescriptor.cueIdentifier, bytes: [1, 2, 3, 4])]),
            SpliceInfoSection(command: .other(type: 0xff, bytes: [0x43, 0x55, 0x45, 0x49, 9])),
            // A cancelled segmentation event codes nothing after its id (type 0 as parsed).
            SpliceInfoSection(command: .timeSignal(1), descriptors: [.segmentation(SegmentationDescriptor(eventID: 3, typeID: 0, cancel: true))]),
            SpliceInfoSection(command: .insert(last)),
        ]
        for section in sections {
            let bytes = section.encoded()
            #expect(MPEGCRC32.checksum(bytes) == 0)
            let parsed = try SpliceInfoSection.parse(bytes)
            #expect(parsed == section)
            #expect(parsed.encoded() == bytes)
        }
        #expect(try SpliceInfoSection.parse(sections[3].encoded()).signal == .cancel)
    }

    @Test func truncatedAndDamagedSectionsAreRefused() {
        for bytes in Self.all {
            // Every prefix fails (a length field or the CRC says so), never crashes.
            for count in 0..<bytes.count {
                #expect(throws: SpliceInfoSection.Malformed.self) { try SpliceInfoSection.parse(Array(bytes.prefix(count))) }
            }
            var flipped = bytes
            flipped[bytes.count / 2] ^= 0x10
            #expect { try SpliceInfoSection.parse(flipped) } throws: { ($0 as? SpliceInfoSection.Malformed)?.code == .crcMismatch }
        }
        var wrongTable = Self.spliceNull
        wrongTable[0] = 0x02
        #expect { try SpliceInfoSection.parse(wrongTable) } throws: { ($0 as? SpliceInfoSection.Malformed)?.code == .tableID }
        // Encrypted (encrypted_packet set, CRC recomputed).
        var encrypted = Array(Self.spliceNull.dropLast(4))
        encrypted[4] |= 0x80
        #expect { try SpliceInfoSection.parse(MPEGCRC32.appended(to: encrypted)) } throws: {
            ($0 as? SpliceInfoSection.Malformed)?.code == .encrypted
        }
        // A command length that disagrees with the command, with a valid CRC.
        var badLength = Array(Self.insertOut.dropLast(4))
        badLength[12] = 0x13
        #expect(throws: SpliceInfoSection.Malformed.self) { try SpliceInfoSection.parse(MPEGCRC32.appended(to: badLength)) }
    }

    @Test func garbageNeverCrashes() throws {
        var state: UInt64 = 0x2545_f491_4f6c_dd1d
        for _ in 0..<2000 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let count = Int(state % 64)
            var bytes = (0..<count).map { i in UInt8(truncatingIfNeeded: state >> UInt64(i % 56)) }
            if bytes.count > 3 {
                // A plausible header and a valid CRC, so the parser gets past the first checks.
                bytes[0] = 0xfc
                bytes[1] = 0x30 | UInt8((count - 3 + 4) >> 8)
                bytes[2] = UInt8(truncatingIfNeeded: count - 3 + 4)
                bytes = MPEGCRC32.appended(to: bytes)
            }
            if let section = try? SpliceInfoSection.parse(bytes) {
                #expect(try SpliceInfoSection.parse(section.encoded()) == section)
            }
        }
    }
}
