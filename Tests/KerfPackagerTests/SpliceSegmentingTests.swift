import KerfCore
import Testing
@testable import KerfPackager
import KerfTestTags

/// Splice points in the segmenter, and the schedule that pairs splices and places them on the
/// boundaries. 25 fps video at 90 kHz (3600 ticks a frame), 48 kHz audio.
@Suite(.tags(.unit)) struct SpliceSegmentingTests {
    static let frame: Int64 = 3600

    static func seconds(_ value: Double) -> MediaTime { MediaTime(seconds: value, timescale: 90_000) }

    /// Boundaries of `duration` seconds of video with keyframes at `keyframes` seconds, cut at a
    /// 4 s target and at `splices`; the audio track's cuts too.
    static func cut(keyframes: [Double], splices: [Double], duration: Double = 30) -> (video: [Double], audio: [Double]) {
        var segmenter = Segmenter(target: MediaTime(value: 4, timescale: 1), tracks: [
            0: .init(kind: .video, frameDuration: MediaTime(value: frame, timescale: 90_000)),
            1: .init(kind: .audio, frameDuration: MediaTime(value: 1024, timescale: 48_000)),
        ])
        for splice in splices { segmenter.addSplicePoint(seconds(splice)) }
        let keys = Set(keyframes.map { Int64(($0 * 25).rounded()) })
        var audioCuts: [Double] = []
        var samples: [SampleTiming] = []
        for i in 0..<Int64(duration * 25) {
            let t = MediaTime(value: i * frame, timescale: 90_000)
            samples.append(SampleTiming(track: 0, pts: t, dts: t, duration: MediaTime(value: frame, timescale: 90_000),
                                        isKeyframe: keys.contains(i), size: 100))
        }
        for i in 0..<Int64(duration * 48_000 / 1024) {
            let t = MediaTime(value: i * 1024, timescale: 48_000)
            samples.append(SampleTiming(track: 1, pts: t, dts: t, duration: MediaTime(value: 1024, timescale: 48_000), isKeyframe: true, size: 10))
        }
        var segment = 0
        func note(_ actions: [Segmenter.Action]) {
            for case .append(let sample, let index) in actions where sample.track == 1 && index > segment {
                audioCuts.append(sample.pts.seconds)
                segment = index
            }
        }
        for sample in samples.sorted(by: { $0.dts < $1.dts }) { note(segmenter.push(sample)) }
        note(segmenter.finish().actions)
        return (segmenter.boundaries.map(\.seconds), audioCuts)
    }

    @Test func splicesAtKeyframesOffTheGridStartSegments() {
        let (video, audio) = Self.cut(keyframes: [0, 4, 8, 11, 12, 16, 17, 20, 24, 28], splices: [11, 17])
        #expect(video == [4, 8, 11, 12, 16, 17, 20, 24, 28])
        // Audio cuts on its own frames within half a frame of each boundary.
        #expect(audio.count == video.count)
        for (a, v) in zip(audio, video) { #expect(abs(a - v) <= 0.0107) }
        // Without splices the same keyframes give the grid only.
        #expect(Self.cut(keyframes: [0, 4, 8, 11, 12, 16, 17, 20, 24, 28], splices: []).video == [4, 8, 12, 16, 20, 24, 28])
    }

    @Test func aSpliceBetweenKeyframesCutsAtTheNextOne() {
        let keyframes = stride(from: 0.0, to: 30, by: 2).map { $0 }
        #expect(Self.cut(keyframes: keyframes, splices: [5.5]).video == [4, 6, 8, 12, 16, 20, 24, 28])
        // A keyframe up to half a frame (20 ms) before the splice counts as at it; later
        // splices wait for the next keyframe (8 s, on the grid anyway).
        #expect(Self.cut(keyframes: keyframes, splices: [6.01]).video == [4, 6, 8, 12, 16, 20, 24, 28])
        #expect(Self.cut(keyframes: keyframes, splices: [6.03]).video == [4, 8, 12, 16, 20, 24, 28])
    }

    @Test func scheduleWritesASpliceInsertForABareCue() throws {
        let schedule = SpliceSchedule(cues: [CuePoint(time: Self.seconds(11), duration: Self.seconds(6), id: "42")])
        #expect(schedule.cutPoints == [Self.seconds(11), Self.seconds(17)])
        let placed = schedule.placements(boundaries: [4, 8, 11, 12, 16, 17, 20].map(Self.seconds), tolerance: Self.seconds(0.02))
        let marker = try #require(placed.first?.marker)
        #expect(marker.id == "42" && marker.eventID == 42 && marker.start == Self.seconds(11) && marker.end == Self.seconds(17))
        let section = try SpliceInfoSection.parse(marker.section)
        #expect(section.signal == .out && section.eventID == 42 && section.spliceTime == 990_000)
        #expect(section.duration == 540_000)
    }

    @Test func outsPairWithTheirReturnAndMoveToKeyframes() throws {
        func insert(_ id: UInt32, out: Bool, at time: Double, duration: Double? = nil, cancel: Bool = false) -> [UInt8] {
            SpliceInfoSection(command: .insert(SpliceInsert(eventID: id, outOfNetwork: out, spliceTime: UInt64(time * 90_000),
                                                            breakDuration: duration.map { BreakDuration(autoReturn: true, duration: UInt64($0 * 90_000)) },
                                                            cancel: cancel))).encoded()
        }
        let cues = [
            CuePoint(time: Self.seconds(5), section: insert(7, out: true, at: 5, duration: 30)),
            CuePoint(time: Self.seconds(9), section: insert(7, out: false, at: 9)),
            CuePoint(time: Self.seconds(13), section: insert(8, out: true, at: 13)),
            CuePoint(time: Self.seconds(14), section: insert(8, out: false, at: 14, cancel: true)),
            CuePoint(time: Self.seconds(21), duration: Self.seconds(0.5)),
        ]
        let schedule = SpliceSchedule(cues: cues)
        // Event 7 returns at its splice in (9 s), not after its 30 s break_duration; event 8 is cancelled.
        #expect(schedule.cutPoints == [5, 9, 21, 21.5].map(Self.seconds))
        let placed = schedule.placements(boundaries: [4, 6, 8, 10, 12, 16, 20, 22, 24].map(Self.seconds), tolerance: Self.seconds(0.02))
        #expect(placed.count == 2)
        #expect(placed[0].marker.start == Self.seconds(6) && placed[0].startShift == Self.seconds(1))
        #expect(placed[0].marker.end == Self.seconds(10) && placed[0].endShift == Self.seconds(1))
        #expect(placed[0].marker.returnSection == cues[1].section && placed[0].marker.plannedDuration == Self.seconds(30))
        // Out and return both move to 22 s: the break ends at the next boundary instead.
        #expect(placed[1].marker.start == Self.seconds(22) && placed[1].marker.end == Self.seconds(24))
    }
}
