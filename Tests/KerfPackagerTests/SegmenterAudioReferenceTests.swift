import KerfCore
import Testing
@testable import KerfPackager
import KerfTestTags

/// Audio as the reference track (audio-only packages): cuts land on the frame nearest each
/// multiple of the target, once per multiple.
@Suite(.tags(.unit)) struct SegmenterAudioReferenceTests {
    @Test func cutsOncePerMultipleAtTheNearestFrame() {
        let rate: Int64 = 44100, frame = MediaTime(value: 1024, timescale: rate)
        var segmenter = Segmenter(target: MediaTime(value: 6, timescale: 1),
                                  tracks: [0: .init(kind: .audio, frameDuration: frame)])
        var cuts: [Int64] = []
        for index in 0..<431 {  // 10 s of 1024-sample frames
            let time = MediaTime(value: Int64(index) * 1024, timescale: rate)
            let sample = SampleTiming(track: 0, pts: time, dts: time, duration: frame, isKeyframe: true, size: 300)
            let completed = segmenter.push(sample).contains { action in
                if case .complete = action { return true }
                return false
            }
            if completed { cuts.append(Int64(index)) }
        }
        // 6 s = 258.4 frames: frame 258 starts 11.6 ms before 6 s, the nearest one.
        #expect(cuts == [258])
        #expect(segmenter.boundaries == [MediaTime(value: 258 * 1024, timescale: rate)])
    }
}
