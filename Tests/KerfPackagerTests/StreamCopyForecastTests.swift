import KerfCore
import KerfTestTags
import Testing
@testable import KerfPackager

/// The keyframe forecast made before reading, on synthetic tracks and indexes.
@Suite(.tags(.unit)) struct StreamCopyForecastTests {
    /// 25 fps H.264 in a 1/12800 time base, as FFmpeg's MP4 muxer writes it.
    func video(_ index: Int = 0, height: Int = 360) -> TrackInfo {
        var track = TrackInfo(index: index, mediaType: .video, codec: "h264", timeBase: Rational(1, 12_800))
        track.width = height * 16 / 9
        track.height = height
        track.frameRate = Rational(25, 1)
        track.fieldOrder = .progressive
        return track
    }

    func audio(_ index: Int) -> TrackInfo {
        var track = TrackInfo(index: index, mediaType: .audio, codec: "aac", timeBase: Rational(1, 48_000))
        track.sampleRate = 48_000
        return track
    }

    /// Keyframe decode times in seconds (given in milliseconds), shifted by a decode delay the
    /// way B-frames shift them.
    func index(_ milliseconds: [Int64], delay: Int64 = 80) -> KeyframeIndex {
        KeyframeIndex(keyframeTimes: milliseconds.map { MediaTime(value: $0 - delay, timescale: 1000) }, sampleCount: 250)
    }

    func input(_ path: String, _ keyframes: KeyframeIndex?, tracks: [TrackInfo]? = nil) -> StreamCopyForecast.Input {
        StreamCopyForecast.Input(path: path, tracks: tracks ?? [video(), audio(1)],
                                 keyframes: keyframes.map { [0: $0] } ?? [:])
    }

    let regular: [Int64] = [0, 2000, 4000, 6000, 8000]
    let irregular: [Int64] = [0, 1320, 2080, 4760, 5200, 7960, 9400]

    func seconds(_ value: Int64) -> MediaTime { MediaTime(value: value, timescale: 1) }

    @Test func alignedRenditionsForecastNothing() {
        let forecast = StreamCopyForecast(inputs: [input("a.mp4", index(regular)), input("b.mp4", index(regular, delay: 0))],
                                          segmentDuration: seconds(2))
        #expect(forecast.problem == nil)
        #expect(forecast.coversEveryVideoTrack)
    }

    @Test func misalignedRenditionsAreNamedAsThePassWouldNameThem() throws {
        let forecast = StreamCopyForecast(inputs: [input("ladder.mp4", index(regular)), input("irregular.mp4", index(irregular))],
                                          segmentDuration: seconds(6))
        let problem = try #require(forecast.problem)
        #expect(problem.code == .needsTranscoding)
        #expect(problem.message == "renditions are not keyframe-aligned")
        #expect(problem.reason == "by the keyframe indexes, irregular.mp4 cuts segment 2 at 7.960 s where ladder.mp4 cuts at 6.000 s")
        #expect(problem.file == "irregular.mp4")
    }

    @Test func aRenditionWithFewerCutsIsMisaligned() throws {
        let forecast = StreamCopyForecast(inputs: [input("a.mp4", index(regular)), input("b.mp4", index([0, 2000, 4000]))],
                                          segmentDuration: seconds(2))
        #expect(try #require(forecast.problem).reason.hasSuffix("b.mp4 cuts segment 4 at no cut where a.mp4 cuts at 6.000 s"))
    }

    @Test func segmentsOverTwiceTheTargetAreGOPsFarTooLong() throws {
        let forecast = StreamCopyForecast(inputs: [input("irregular.mp4", index(irregular))], segmentDuration: seconds(1))
        let problem = try #require(forecast.problem)
        #expect(problem.message == "GOP far longer than the segment duration")
        #expect(problem.reason == "by the keyframe index, a segment lasts 2.760 s for a 1.000 s target")
        // The same keyframes cut 2 s segments of at most 3.2 s: long, but not far too long.
        #expect(StreamCopyForecast(inputs: [input("irregular.mp4", index(irregular))], segmentDuration: seconds(2)).problem == nil)
    }

    /// Index times are decode times: differences within a frame are left to the stream-copy pass.
    @Test func differencesWithinAFrameAreLeftToThePass() {
        let nearlyAligned = StreamCopyForecast(inputs: [input("a.mp4", index(regular)), input("b.mp4", index([0, 2040, 4000, 6000, 8000]))],
                                               segmentDuration: seconds(2))
        #expect(nearlyAligned.problem == nil)
        let justOverTwice = StreamCopyForecast(inputs: [input("a.mp4", index([0, 4040, 6000]))], segmentDuration: seconds(2))
        #expect(justOverTwice.problem == nil)
        let clearlyOver = StreamCopyForecast(inputs: [input("a.mp4", index([0, 4080, 6000]))], segmentDuration: seconds(2))
        #expect(clearlyOver.problem?.message == "GOP far longer than the segment duration")
    }

    @Test func tracksWithoutAnIndexAreLeftToThePass() {
        let unindexed = StreamCopyForecast(inputs: [input("a.mp4", index(regular)), input("b.ts", nil)], segmentDuration: seconds(6))
        #expect(unindexed.problem == nil)
        #expect(!unindexed.coversEveryVideoTrack)
        // Two indexed renditions that disagree disagree whatever the third does.
        let mixed = StreamCopyForecast(inputs: [input("a.ts", nil), input("b.mp4", index(regular)), input("c.mp4", index(irregular))],
                                       segmentDuration: seconds(6))
        #expect(mixed.problem?.file == "c.mp4")
        #expect(!mixed.coversEveryVideoTrack)
    }

    @Test func unselectedVideoIsNotJudged() {
        let inputs = [input("a.mp4", index(regular)), input("b.mp4", index(irregular))]
        let selection = StreamSelection(selectors: [.type(input: 0, .video), .type(input: 1, .audio)])
        let forecast = StreamCopyForecast(inputs: inputs, selection: selection, segmentDuration: seconds(6))
        #expect(forecast.problem == nil)
        #expect(forecast.coversEveryVideoTrack)
    }

    /// Within one input every track is timed from the first video track's first keyframe, so a
    /// second video track starting later keeps its offset.
    @Test func videoTracksOfOneInputShareItsOrigin() throws {
        let tracks = [video(0), video(1, height: 720), audio(2)]
        let early = KeyframeIndex(keyframeTimes: [0, 2000, 4000, 6000].map { MediaTime(value: $0, timescale: 1000) }, sampleCount: 200)
        let late = KeyframeIndex(keyframeTimes: [1000, 3000, 5000].map { MediaTime(value: $0, timescale: 1000) }, sampleCount: 150)
        let input = StreamCopyForecast.Input(path: "two.mp4", tracks: tracks, keyframes: [0: early, 1: late])
        let forecast = StreamCopyForecast(inputs: [input], segmentDuration: seconds(2))
        #expect(try #require(forecast.problem).reason == "by the keyframe indexes, two.mp4 cuts segment 2 at 3.000 s where two.mp4 cuts at 2.000 s")
    }
}
