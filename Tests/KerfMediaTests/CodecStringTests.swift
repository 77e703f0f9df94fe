import Testing
import KerfTestSupport
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.unit)) struct CodecStringTests {
    @Test func avcFromAvcC() {
        #expect(CodecString.avc(extradata: [0x01, 0x64, 0x00, 0x1f, 0xff]) == "avc1.64001f")
        #expect(CodecString.avc(extradata: [0x01, 0x42, 0xe0, 0x1e, 0xff]) == "avc1.42e01e")
        #expect(CodecString.avc(extradata: [0x01, 0x4d, 0x40, 0x28]) == "avc1.4d4028")
        #expect(CodecString.make(codec: "h264", extradata: [0x01, 0x64, 0x00, 0x28], tag: "avc3") == "avc3.640028")
    }

    @Test func avcFromAnnexBSPS() {
        let annexB: [UInt8] = [0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1f, 0xab, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80]
        #expect(CodecString.avc(extradata: annexB) == "avc1.4d401f")
    }

    @Test func avcFromProfileAndLevelWhenNoExtradata() {
        #expect(CodecString.avc(extradata: [], profile: 100, level: 40) == "avc1.640028")
        #expect(CodecString.avc(extradata: [], profile: 578, level: 30) == "avc1.42401e")
        #expect(CodecString.avc(extradata: []) == nil)
    }

    @Test func hevcFromHvcC() {
        // Main profile, level 3.1, progressive + frame-only constraints (ISO/IEC 14496-15 E.3 example).
        let main: [UInt8] = [0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0xb0, 0, 0, 0, 0, 0, 93, 0xf0]
        #expect(CodecString.hevc(extradata: main) == "hvc1.1.6.L93.B0")
        // Main 10, level 4.0, high tier, written as hev1.
        let main10: [UInt8] = [0x01, 0x22, 0x20, 0x00, 0x00, 0x00, 0x90, 0, 0, 0, 0, 0, 120]
        #expect(CodecString.make(codec: "hevc", extradata: main10, tag: "hev1") == "hev1.2.4.H120.90")
    }

    @Test func hevcFromAnnexBSPS() {
        // SPS NAL header 0x42 0x01, ids byte, then profile_tier_level with an emulation prevention byte.
        let sps: [UInt8] = [0, 0, 0, 1, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0xb0, 0x00, 0x00,
                            0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0]
        #expect(CodecString.hevc(extradata: sps) == "hvc1.1.6.L93.B0")
    }

    @Test func av1FromAv1C() {
        #expect(CodecString.av1(configuration: [0x81, 0x04, 0x0c, 0x00]) == "av01.0.04M.08")
        #expect(CodecString.av1(configuration: [0x81, 0x0d, 0xcc, 0x00]) == "av01.0.13H.10")
        #expect(CodecString.av1(configuration: [0x81, 0x4d, 0xe0, 0x00]) == "av01.2.13H.12")
        #expect(CodecString.av1(configuration: [0x00]) == nil)
    }

    @Test func aacObjectTypes() {
        #expect(CodecString.aac(audioSpecificConfig: [0x12, 0x10]) == "mp4a.40.2")
        #expect(CodecString.aac(audioSpecificConfig: [0x2b, 0x92, 0x08, 0x00]) == "mp4a.40.5")
        #expect(CodecString.aac(audioSpecificConfig: [0xf9, 0x40]) == "mp4a.40.42")  // escaped object type
        #expect(CodecString.aac(audioSpecificConfig: [], profile: 4) == "mp4a.40.5")  // FF_PROFILE_AAC_HE
        #expect(CodecString.aac(audioSpecificConfig: [], profile: 28) == "mp4a.40.29")  // HE-AACv2
    }

    @Test func fixedStrings() {
        #expect(CodecString.make(codec: "ac3", extradata: []) == "ac-3")
        #expect(CodecString.make(codec: "eac3", extradata: []) == "ec-3")
        #expect(CodecString.make(codec: "opus", extradata: []) == "Opus")
        #expect(CodecString.make(codec: "mp3", extradata: []) == "mp4a.40.34")
        #expect(CodecString.make(codec: "mpeg2video", extradata: []) == nil)
    }

    @Test func fixturesGiveTheirCodecStrings() throws {
        let h264 = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        #expect(h264.tracks[0].codecString == "avc1.64001e")  // High, level 3.0
        #expect(h264.tracks[1].codecString == "mp4a.40.2")
        let hevc = try MediaInput(url: Fixtures.path("hevc_aac.mp4"))
        #expect(hevc.tracks[0].codecString?.hasPrefix("hvc1.1.6.L") == true)  // Main profile
        let ladder = try MediaInput(url: Fixtures.path("ladder_720p.mp4"))
        #expect(ladder.tracks[0].codecString == "avc1.64001f")  // level 3.1
    }
}
