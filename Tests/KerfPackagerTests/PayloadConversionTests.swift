import KerfCore
import Testing
@testable import KerfPackager
import KerfTestTags

@Suite(.tags(.unit)) struct PayloadConversionTests {
    @Test func annexBBecomesLengthPrefixedWithoutParameterSets() {
        // AUD, SPS, PPS, then an IDR slice (3- and 4-byte start codes).
        let annexB: [UInt8] = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1e, 0, 0, 1, 0x68, 0xee,
                               0, 0, 1, 0x65, 0x88, 0x84, 0x00]
        let conversion = PayloadConversion.detect(codec: "h264", extradata: [], firstSample: annexB)
        #expect(conversion == .annexB(hevc: false))
        #expect(conversion.convert(annexB) == [0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00])
    }

    @Test func hevcDropsVPSSPSPPSAndAUD() {
        let annexB: [UInt8] = [0, 0, 0, 1, 0x40, 0x01, 0xaa, 0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x26, 0x01, 0xbb]
        let conversion = PayloadConversion.detect(codec: "hevc", extradata: [0, 0, 0, 1, 0x40], firstSample: annexB)
        #expect(conversion.convert(annexB) == [0, 0, 0, 3, 0x26, 0x01, 0xbb])
    }

    @Test func lengthPrefixedSamplesAreLeftAlone() {
        let sample: [UInt8] = [0, 0, 0, 2, 0x65, 0x88]
        #expect(PayloadConversion.detect(codec: "h264", extradata: [], firstSample: sample) == .none)
        // A length-prefixed sample whose first NAL unit is 256–511 bytes long starts with 00 00 01:
        // the avcC record says it is not Annex B.
        let long: [UInt8] = [0, 0, 1, 0x34, 0x65] + [UInt8](repeating: 0x11, count: 0x133)
        #expect(PayloadConversion.detect(codec: "h264", extradata: [1, 0x64, 0, 0x1e], firstSample: long) == .none)
        #expect(PayloadConversion.detect(codec: "hevc", extradata: [1, 0x01], firstSample: long) == .none)
    }

    @Test func adtsHeaderIsStrippedAndDescribesTheConfig() {
        // AAC LC, 48 kHz (index 3), 2 channels, protection absent, frame length 0x0d.
        let frame: [UInt8] = [0xff, 0xf1, 0x4c, 0x80, 0x01, 0xbf, 0xfc, 0x21, 0x10, 0x04]
        #expect(PayloadConversion.detect(codec: "aac", extradata: [], firstSample: frame) == .adts)
        #expect(PayloadConversion.adts.convert(frame) == [0x21, 0x10, 0x04])
        #expect(ADTS.audioSpecificConfig(frame) == [0x11, 0x90])  // mp4a.40.2, 48 kHz, stereo
        #expect(ADTS.headerLength([0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0]) == 9)  // CRC present
        #expect(ADTS.headerLength([0x21, 0x10]) == nil)
    }
}

@Suite(.tags(.unit)) struct RandomAccessTests {
    @Test func onlyIDRAndBLAPicturesAreIndependent() {
        func sample(_ headers: [UInt8]) -> [UInt8] { headers.flatMap { [0, 0, 0, 2, $0, 0x80] } }
        // H.264: SEI + IDR slice is independent; a non-IDR I slice (type 1) is not.
        #expect(RandomAccess.isIndependent(codec: "h264", sample: sample([0x06, 0x65]), extradata: [1, 0x64, 0, 0x1e, 0xff]))
        #expect(!RandomAccess.isIndependent(codec: "h264", sample: sample([0x06, 0x41]), extradata: [1, 0x64, 0, 0x1e, 0xff]))
        // HEVC: IDR_W_RADL (19) yes, CRA (21) no, BLA_W_LP (16) yes.
        #expect(RandomAccess.isIndependent(codec: "hevc", sample: sample([19 << 1]), extradata: []))
        #expect(!RandomAccess.isIndependent(codec: "hevc", sample: sample([21 << 1]), extradata: []))
        #expect(RandomAccess.isIndependent(codec: "hevc", sample: sample([16 << 1]), extradata: []))
        // Annex B input and other codecs.
        #expect(RandomAccess.isIndependent(codec: "h264", sample: [0, 0, 0, 1, 0x67, 0x64, 0, 0, 1, 0x65, 0x88], extradata: []))
        #expect(RandomAccess.isIndependent(codec: "av1", sample: [0x12, 0x00], extradata: []))
        // A truncated length field is not read past the end.
        #expect(!RandomAccess.isIndependent(codec: "h264", sample: [0, 0, 0, 9, 0x65], extradata: []))
    }
}
