import KerfCore
import KerfTestSupport
import Testing
@testable import KerfMedia
import KerfTestTags

/// Codec parameters from a configuration record alone, checked against what libavformat's own
/// demuxer reports for the same stream.
@Suite(.tags(.unit)) struct ElementaryStreamTests {
    @Test func hevcAndAACFromTheirRecords() throws {
        let input = try MediaInput(url: Fixtures.path("hevc_aac.mp4"))
        let video = try #require(input.tracks.first { $0.mediaType == .video })
        let audio = try #require(input.tracks.first { $0.mediaType == .audio })
        let hevc = TrackInfo(parameters: try ElementaryStream.parameters(codec: "hevc", extradata: video.extradata),
                             index: 0, timeBase: Rational(1, 1000))
        #expect(hevc.codec == "hevc")
        #expect(hevc.width == 640 && hevc.height == 360)
        #expect(hevc.pixelFormat == video.pixelFormat)
        #expect(hevc.codecString == video.codecString)
        #expect(hevc.extradata == video.extradata)
        let aac = TrackInfo(parameters: try ElementaryStream.parameters(codec: "aac", extradata: audio.extradata),
                            index: 1, timeBase: Rational(1, 1000))
        #expect(aac.sampleRate == audio.sampleRate && aac.channels == audio.channels)
        #expect(aac.codecString == "mp4a.40.2")
    }

    @Test func audioSpecificConfigs() {
        #expect(ElementaryStream.audioSpecificConfig([0x12, 0x10])! == (44100, 2))
        #expect(ElementaryStream.audioSpecificConfig([0x11, 0x88])! == (48000, 1))
        // Explicit frequency (index 15): 24 bits of rate.
        #expect(ElementaryStream.audioSpecificConfig([0x17, 0x80, 0x5D, 0xC0, 0x10])! == (48000, 2))
        #expect(ElementaryStream.audioSpecificConfig([0x12]) == nil)
    }

    @Test func refusesWhatItCannotRead() {
        #expect(throws: MediaError.self) { try ElementaryStream.parameters(codec: "no-such-codec", extradata: []) }
        #expect(throws: MediaError.self) { try ElementaryStream.parameters(codec: "hevc", extradata: [0x01, 0x02, 0x03]) }
    }
}
