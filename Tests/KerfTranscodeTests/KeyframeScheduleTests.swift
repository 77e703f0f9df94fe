import Testing
import KerfCore
import KerfTranscode
import KerfTestTags

@Suite(.tags(.unit)) struct KeyframeScheduleTests {
    /// Frame numbers the schedule makes keyframes, for `count` frames of `step` ticks at `scale`.
    func keyframes(target: MediaTime, start: Int64, step: Int64, scale: Int64, count: Int) -> [Int] {
        var schedule = KeyframeSchedule(target: target)
        return (0..<count).filter { schedule.isKeyframe(at: MediaTime(value: start + Int64($0) * step, timescale: scale)) }
    }

    @Test func keyframesAtEachMultipleOfTheTargetFromTheFirstPicture() {
        // 25 fps in 1/90000 from 1.44 s (an MPEG-TS start), 2 s segments.
        #expect(keyframes(target: MediaTime(value: 2, timescale: 1), start: 129_600, step: 3600, scale: 90_000, count: 260)
                == [0, 50, 100, 150, 200, 250])
    }

    @Test func theFirstPictureAtOrAfterABoundaryWhenFramesDoNotLandOnIt() {
        // 29.97 fps: 2 s falls between frames 59 (1.968 s) and 60 (2.002 s).
        #expect(keyframes(target: MediaTime(value: 2, timescale: 1), start: 0, step: 3003, scale: 90_000, count: 130)
                == [0, 60, 120])
        // A gap in the input skips boundaries without extra keyframes.
        var schedule = KeyframeSchedule(target: MediaTime(value: 2000, timescale: 1000))
        let decisions = [0, 7000, 7900, 8000].map { schedule.isKeyframe(at: MediaTime(value: $0, timescale: 1000)) }
        #expect(decisions == [true, true, false, true])
    }

    @Test func splicePointsAreKeyframesToo() {
        // 25 fps from 1.44 s, 4 s segments, splices 11 s and 13.5 s (between frames: the next
        // one, 13.52 s) after the first picture; the grid goes on (12, 16 s).
        var schedule = KeyframeSchedule(target: MediaTime(value: 4, timescale: 1),
                                        splicePoints: [MediaTime(value: 27, timescale: 2), MediaTime(value: 11, timescale: 1)])
        let frames = (0..<500).filter { schedule.isKeyframe(at: MediaTime(value: 129_600 + Int64($0) * 3600, timescale: 90_000)) }
        #expect(frames == [0, 100, 200, 275, 300, 338, 400])
    }

    @Test func splicePointsAddedWhileEncodingAreKeyframes() {
        // A live splice on the source's timeline (25 fps from 1.44 s, 4 s segments): one given
        // before the first picture (at 12.44 s: frame 275), one while encoding (15.0 s: frame
        // 339), one already passed (the next picture).
        var schedule = KeyframeSchedule(target: MediaTime(value: 4, timescale: 1))
        schedule.addSplicePoint(at: MediaTime(value: 1_119_600, timescale: 90_000))
        var frames: [Int] = []
        for frame in 0..<500 {
            if frame == 100 { schedule.addSplicePoint(at: MediaTime(value: 15, timescale: 1)) }
            if frame == 420 { schedule.addSplicePoint(at: MediaTime(value: 10, timescale: 1)) }
            if schedule.isKeyframe(at: MediaTime(value: 129_600 + Int64(frame) * 3600, timescale: 90_000)) { frames.append(frame) }
        }
        #expect(frames == [0, 100, 200, 275, 300, 339, 400, 420])
    }
}
