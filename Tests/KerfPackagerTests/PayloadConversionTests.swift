import Testing
@testable import KerfPackager

@Suite struct PayloadConversionTests {
    @Test func annexBBecomesLengthPrefixedWithoutParameterSets() {
        // AUD, SPS, PPS, then an IDR slice (3- and 4-byte start codes).
        let annexB: [UInt8] = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1e, 0, 0, 1, 0x68, 0xee,
                               0, 0, 1, 0x65, 0x88, 0x84, 0x00]
        let conversion = PayloadConversion.detect(codec: "h264", firstSample: annexB)
        #expect(conversion == .annexB(hevc: false))
        #expect(conversion.convert(annexB) == [0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00])
    }

    @Test func hevcDropsVPSSPSPPSAndAUD() {
        let annexB: [UInt8] = [0, 0, 0, 1, 0x40, 0x01, 0xaa, 0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x26, 0x01, 0xbb]
        let conversion = PayloadConversion.detect(codec: "hevc", firstSample: annexB)
        #expect(conversion.convert(annexB) == [0, 0, 0, 3, 0x26, 0x01, 0xbb])
    }

    @Test func lengthPrefixedSamplesAreLeftAlone() {
        let sample: [UInt8] = [0, 0, 0, 2, 0x65, 0x88]
        #expect(PayloadConversion.detect(codec: "h264", firstSample: sample) == .none)
    }

    @Test func adtsHeaderIsStrippedAndDescribesTheConfig() {
        // AAC LC, 48 kHz (index 3), 2 channels, protection absent, frame length 0x0d.
        let frame: [UInt8] = [0xff, 0xf1, 0x4c, 0x80, 0x01, 0xbf, 0xfc, 0x21, 0x10, 0x04]
        #expect(PayloadConversion.detect(codec: "aac", firstSample: frame) == .adts)
        #expect(PayloadConversion.adts.convert(frame) == [0x21, 0x10, 0x04])
        #expect(ADTS.audioSpecificConfig(frame) == [0x11, 0x90])  // mp4a.40.2, 48 kHz, stereo
        #expect(ADTS.headerLength([0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0]) == 9)  // CRC present
        #expect(ADTS.headerLength([0x21, 0x10]) == nil)
    }
}
