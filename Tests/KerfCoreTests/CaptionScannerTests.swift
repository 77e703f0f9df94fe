import Testing
@testable import KerfCore
import KerfTestTags

/// SEI NAL units built here byte by byte (ATSC A/53 Part 4 cc_data in
/// user_data_registered_itu_t_t35), read back by `CaptionScanner`.
@Suite(.tags(.unit)) struct CaptionScannerTests {
    /// Odd parity on a 7-bit CEA-608 byte.
    static func parity(_ byte: UInt8) -> UInt8 {
        byte & 0x7F | (((byte & 0x7F).nonzeroBitCount % 2 == 0) ? 0x80 : 0)
    }

    /// cc_data triplets (marker byte with cc_valid and cc_type, two data bytes).
    static func seiPayload(_ triplets: [(UInt8, UInt8, UInt8)]) -> [UInt8] {
        var payload: [UInt8] = [0xB5, 0x00, 0x31, 0x47, 0x41, 0x39, 0x34, 0x03, 0xC0 | UInt8(triplets.count), 0xFF]
        for (marker, first, second) in triplets { payload += [marker, first, second] }
        return payload + [0xFF]
    }

    /// An SEI NAL unit (H.264 type 6, or an HEVC prefix SEI) with one T.35 message.
    static func sei(_ triplets: [(UInt8, UInt8, UInt8)], hevc: Bool = false) -> [UInt8] {
        let payload = seiPayload(triplets)
        let header: [UInt8] = hevc ? [39 << 1, 0x01] : [0x06]
        return header + AnnexB.addingEmulationPrevention([4, UInt8(payload.count)] + payload + [0x80])
    }

    /// Length-prefixed sample: the SEI, then a fake IDR slice.
    static func sample(_ nals: [[UInt8]]) -> [UInt8] {
        nals.flatMap { nal in [0, 0, UInt8(nal.count >> 8), UInt8(nal.count & 0xFF)] + nal }
    }

    static let avcC: [UInt8] = [1, 0x64, 0, 0x1E, 0xFF, 0xE0]
    static let slice: [UInt8] = [0x65, 0x88, 0x84, 0x00, 0x10]

    static func scan(_ samples: [[UInt8]], codec: String = "h264", extradata: [UInt8] = avcC) -> ClosedCaptions {
        var scanner = CaptionScanner(codec: codec, extradata: extradata)
        for sample in samples { scanner.scan(sample) }
        return scanner.found
    }

    /// A 608 pair in field `field` (cc_type 0 or 1).
    static func pair(field: Int, _ first: UInt8, _ second: UInt8, valid: Bool = true) -> (UInt8, UInt8, UInt8) {
        (0xF8 | (valid ? 0x04 : 0) | UInt8(field - 1), parity(first), parity(second))
    }

    @Test func channelsComeFromCaptionCommands() {
        // RCL in CC1 (field 1, 0x14), RCL in CC2 (0x1C), EOC in CC3 (field 2, 0x15), PAC in CC4.
        let found = Self.scan([
            Self.sample([Self.sei([Self.pair(field: 1, 0x14, 0x20), Self.pair(field: 2, 0x80, 0x80)]), Self.slice]),
            Self.sample([Self.sei([Self.pair(field: 1, 0x1C, 0x20)]), Self.slice]),
            Self.sample([Self.sei([Self.pair(field: 2, 0x15, 0x2F), Self.pair(field: 2, 0x1D, 0x60)]), Self.slice]),
        ])
        #expect(found.cea608 == [1, 2, 3, 4])
        #expect(found.cea708.isEmpty)
        #expect(found.instreamIDs == ["CC1", "CC2", "CC3", "CC4"])
    }

    @Test func textModeNullPairsAndInvalidDataAreNotCaptions() {
        let found = Self.scan([
            // Text restart (TR) and resume text display (RTD) are text-mode, not captions.
            Self.sample([Self.sei([Self.pair(field: 1, 0x14, 0x2A), Self.pair(field: 1, 0x14, 0x2B)]), Self.slice]),
            // Printable characters and null pairs name no channel; cc_valid 0 is ignored.
            Self.sample([Self.sei([Self.pair(field: 1, 0x41, 0x42), Self.pair(field: 1, 0x00, 0x00),
                                   Self.pair(field: 1, 0x14, 0x20, valid: false)]), Self.slice]),
        ])
        #expect(found.isEmpty)
    }

    @Test func dtvccServicesAreFound() {
        // A DTVCC packet of 8 bytes (size code 4): header, a block of service 1 (2 bytes),
        // an extended block of service 10 (1 byte), then a null block.
        let packet: [UInt8] = [0x04, 0x22, 0x41, 0x42, 0xE1, 10, 0x43, 0x00]  // 0x22: service 1, 2 bytes; 0xE1: service 7 (extended), 1 byte
        var triplets: [(UInt8, UInt8, UInt8)] = []
        for i in stride(from: 0, to: packet.count, by: 2) {
            let marker: UInt8 = i == 0 ? 0xFF : 0xFE
            triplets.append((marker, packet[i], packet[i + 1]))
        }
        let found = Self.scan([Self.sample([Self.sei(triplets), Self.slice])])
        #expect(found.cea708 == [1, 10])
        #expect(found.instreamIDs == ["SERVICE1", "SERVICE10"])
    }

    @Test func hevcAndAnnexBSamplesAreRead() {
        let hevc = Self.scan([Self.sample([Self.sei([Self.pair(field: 1, 0x14, 0x20)], hevc: true), [0x26, 0x01, 0xAF]])],
                             codec: "hevc", extradata: [1] + [UInt8](repeating: 0, count: 20) + [0x03])
        #expect(hevc.cea608 == [1])
        // Annex B (an MPEG-TS input): start codes, parameter sets given as Annex B too.
        let annexB = [0, 0, 0, 1] + Self.sei([Self.pair(field: 2, 0x15, 0x20)]) + [0, 0, 1] + Self.slice
        #expect(Self.scan([annexB], extradata: [0, 0, 0, 1, 0x67]).cea608 == [3])
        // Other codecs are not read.
        #expect(Self.scan([Self.sample([Self.sei([Self.pair(field: 1, 0x14, 0x20)])])], codec: "av1").isEmpty)
    }

    @Test func damagedSEINeverTraps() {
        let good = Self.sei([Self.pair(field: 1, 0x14, 0x20)])
        for cut in 1..<good.count {
            _ = Self.scan([Self.sample([Array(good.prefix(cut))])])
        }
        // Lengths past the end, a payload size past the end, a wrong provider.
        _ = Self.scan([[0, 0, 0, 40, 0x06, 4]])
        _ = Self.scan([Self.sample([[0x06, 4, 200, 0xB5]])])
        var other = Self.seiPayload([Self.pair(field: 1, 0x14, 0x20)])
        other[2] = 0x2F
        #expect(Self.scan([Self.sample([[0x06, 4, UInt8(other.count)] + other + [0x80]])]).isEmpty)
    }
}
