import KerfCore
import Testing
@testable import KerfPackager
import KerfTestTags

// Synthetic timings: 25 fps video at 12800 Hz (512 ticks per frame), AAC-like audio at 48 kHz
// (1024 samples per frame). Track 1 is video, track 2 audio, track 3+ extra video renditions.

private let videoTimescale: Int64 = 12_800
private let videoFrame: Int64 = 512
private let audioTimescale: Int64 = 48_000

private func video(_ ticks: Int64) -> MediaTime { MediaTime(value: ticks, timescale: videoTimescale) }
private func audio(_ ticks: Int64) -> MediaTime { MediaTime(value: ticks, timescale: audioTimescale) }
private func seconds(_ value: Int64, _ timescale: Int64 = 1) -> MediaTime { MediaTime(value: value, timescale: timescale) }

/// Video frames `0..<frames` with pts == dts, keyframes at the given frame indices.
private func videoSamples(track: Int = 1, frames: Int, keyframes: Set<Int>) -> [SampleTiming] {
    (0..<frames).map { i in
        SampleTiming(track: track, pts: video(Int64(i) * videoFrame), dts: video(Int64(i) * videoFrame),
                     duration: video(videoFrame), isKeyframe: keyframes.contains(i), size: 1000)
    }
}

/// Keyframes every `every` frames.
private func keyframes(every: Int, frames: Int) -> Set<Int> { Set(stride(from: 0, to: frames, by: every)) }

private func audioSamples(track: Int = 2, frames: Int, frameSize: Int64 = 1024) -> [SampleTiming] {
    (0..<frames).map { i in
        SampleTiming(track: track, pts: audio(Int64(i) * frameSize), dts: audio(Int64(i) * frameSize),
                     duration: audio(frameSize), isKeyframe: true, size: 300)
    }
}

/// Merges tracks in decode order; on equal decode times the track listed first goes first.
private func interleave(_ tracks: [SampleTiming]...) -> [SampleTiming] {
    tracks.enumerated()
        .flatMap { order, samples in samples.enumerated().map { (sample: $1, order: order, index: $0) } }
        .sorted { a, b in
            if a.sample.dts != b.sample.dts { return a.sample.dts < b.sample.dts }
            if a.order != b.order { return a.order < b.order }
            return a.index < b.index
        }
        .map(\.sample)
}

private let videoConfig = Segmenter.TrackConfiguration(kind: .video, frameDuration: video(videoFrame))
private let audioConfig = Segmenter.TrackConfiguration(kind: .audio, frameDuration: audio(1024))

/// The outcome of feeding a whole input and finishing.
private struct Run {
    var segmenter: Segmenter
    var actions: [Segmenter.Action] = []
    var finishActions: [Segmenter.Action] = []
    var misalignments: [Segmenter.Misalignment] = []

    init(target: MediaTime, tracks: [Int: Segmenter.TrackConfiguration], samples: [SampleTiming]) {
        segmenter = Segmenter(target: target, tracks: tracks)
        for sample in samples { actions += segmenter.push(sample) }
        let finished = segmenter.finish()
        finishActions = finished.actions
        actions += finished.actions
        misalignments = finished.misalignments
    }

    /// The samples of each segment of `track`, in the order they were appended.
    func segments(track: Int) -> [[SampleTiming]] {
        var result: [[SampleTiming]] = []
        for case let .append(sample, segment) in actions where sample.track == track {
            while result.count <= segment { result.append([]) }
            result[segment].append(sample)
        }
        return result
    }

    /// The first sample's pts of each segment of `track`.
    func segmentStarts(track: Int) -> [MediaTime] { segments(track: track).compactMap { $0.first?.pts } }

    /// Records an issue unless, for every track, segments are appended in order and each is
    /// completed exactly once, after its last sample and before the next segment's first.
    func checkProtocol(sourceLocation: SourceLocation = #_sourceLocation) {
        var open: [Int: Int] = [:], completed: [Int: [Int]] = [:]
        for action in actions {
            switch action {
            case let .append(sample, segment):
                let current = open[sample.track] ?? segment
                if segment < current || (completed[sample.track] ?? []).contains(segment) {
                    Issue.record("track \(sample.track): append to segment \(segment) after \(current) or after its completion",
                                 sourceLocation: sourceLocation)
                }
                open[sample.track] = segment
            case let .complete(track, segment):
                if open[track] != segment {
                    Issue.record("track \(track): completes \(segment) while \(String(describing: open[track])) is open",
                                 sourceLocation: sourceLocation)
                }
                completed[track, default: []].append(segment)
            }
        }
        for (track, segment) in open where completed[track]?.last != segment {
            Issue.record("track \(track): last segment \(segment) never completed", sourceLocation: sourceLocation)
        }
    }
}

@Suite(.tags(.unit)) struct SegmenterVideoBoundaryTests {
    @Test func regularKeyframesCutAtMultiplesOfTheTarget() {
        // 14 s, keyframes every 2 s, 6 s target.
        let run = Run(target: seconds(6), tracks: [1: videoConfig],
                      samples: videoSamples(frames: 350, keyframes: keyframes(every: 50, frames: 350)))
        #expect(run.segmenter.boundaries == [seconds(6), seconds(12)])
        #expect(run.segmenter.cuts(track: 1) == [video(76_800), video(153_600)])
        #expect(run.segments(track: 1).map(\.count) == [150, 150, 50])
        #expect(run.segmentStarts(track: 1) == [seconds(0), seconds(6), seconds(12)])
        #expect(run.misalignments.isEmpty)
        run.checkProtocol()
    }

    @Test func irregularKeyframesCutAtTheFirstKeyframeAtOrAfterEachMultiple() {
        // Keyframes at 0, 1.32, 2.08, 4.76, 5.2, 7.96, 9.4 s; 10 s of video; 2 s target.
        let run = Run(target: seconds(2), tracks: [1: videoConfig],
                      samples: videoSamples(frames: 250, keyframes: [0, 33, 52, 119, 130, 199, 235]))
        #expect(run.segmenter.boundaries == [seconds(208, 100), seconds(476, 100), seconds(796, 100), seconds(94, 10)])
        #expect(run.segments(track: 1).map(\.count) == [52, 67, 80, 36, 15])
        // Every segment starts with a keyframe.
        #expect(run.segments(track: 1).allSatisfy { $0.first?.isKeyframe == true })
        run.checkProtocol()
    }

    @Test func cutIsEmittedBeforeTheKeyframeThatStartsTheNextSegment() {
        var segmenter = Segmenter(target: seconds(2), tracks: [1: videoConfig])
        let samples = videoSamples(frames: 52, keyframes: keyframes(every: 50, frames: 52))
        for sample in samples.prefix(50) {
            #expect(segmenter.push(sample) == [.append(sample, segment: 0)])
        }
        #expect(segmenter.push(samples[50]) == [.complete(track: 1, segment: 0), .append(samples[50], segment: 1)])
        #expect(segmenter.push(samples[51]) == [.append(samples[51], segment: 1)])
        let finished = segmenter.finish()
        #expect(finished.actions == [.complete(track: 1, segment: 1)])
        #expect(finished.misalignments.isEmpty)
    }

    @Test func leadingNonKeyframesAreDropped() {
        let run = Run(target: seconds(2), tracks: [1: videoConfig],
                      samples: videoSamples(frames: 103, keyframes: [3, 53]))
        #expect(run.segmenter.droppedLeadingSamples(track: 1) == 3)
        #expect(run.segments(track: 1).map(\.count) == [50, 50])
        #expect(run.segmentStarts(track: 1) == [video(3 * 512), video(53 * 512)])
    }

    @Test func bFramesCutOnPresentationTime() {
        // Closed GOPs of 50 frames with one B-frame: decode order shows display frames
        // 0, 2, 1, 4, 3, …, 48, 47, 49; dts = (decode index - 1) × 512, so dts starts at -512.
        var samples: [SampleTiming] = []
        for gop in 0..<7 {
            var order = [0]
            for pair in stride(from: 2, through: 48, by: 2) { order += [pair, pair - 1] }
            order.append(49)
            for display in order {
                let decodeIndex = Int64(samples.count)
                let frame = Int64(gop * 50 + display)
                samples.append(SampleTiming(track: 1, pts: video(frame * 512), dts: video((decodeIndex - 1) * 512),
                                            duration: video(512), isKeyframe: display == 0, size: 1000))
            }
        }
        #expect(samples.allSatisfy { $0.pts >= $0.dts })
        #expect(samples.contains { $0.pts != $0.dts })
        let run = Run(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig],
                      samples: interleave(samples, audioSamples(frames: 657)))
        #expect(run.segmenter.boundaries == [seconds(6), seconds(12)])
        let segments = run.segments(track: 1)
        #expect(segments.map(\.count) == [150, 150, 50])
        // Each segment holds exactly the frames displayed in its interval, in decode order.
        #expect(segments[1].map { $0.pts.value / 512 }.sorted() == Array(150..<300))
        #expect(segments.allSatisfy { seg in zip(seg, seg.dropFirst()).allSatisfy { $0.dts < $1.dts } })
        #expect(run.segmentStarts(track: 2) == [audio(0), audio(281 * 1024), audio(562 * 1024)])
        run.checkProtocol()
    }
}

@Suite(.tags(.unit)) struct SegmenterAudioTests {
    @Test func audioCutsAtTheNearestFrameBoundary() {
        // Boundaries at 6 s and 12 s. 6 s is 281.25 AAC frames: frame 281 (5.9947 s) starts
        // after 6 s minus half a frame. 12 s is 562.5 frames: frame 562 starts exactly at
        // 12 s minus half a frame, which counts as "at or after".
        let run = Run(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig],
                      samples: interleave(videoSamples(frames: 350, keyframes: keyframes(every: 50, frames: 350)),
                                          audioSamples(frames: 657)))
        #expect(run.segmentStarts(track: 2) == [audio(0), audio(287_744), audio(575_488)])
        #expect(run.segments(track: 2).map(\.count) == [281, 281, 95])
        let halfFrame = MediaTime(value: 512, timescale: audioTimescale)
        for (start, boundary) in zip(run.segmentStarts(track: 2).dropFirst(), run.segmenter.boundaries) {
            #expect(start >= boundary - halfFrame && start < boundary + halfFrame)
        }
        run.checkProtocol()
    }

    @Test func audioIsHeldUntilTheReferencePassesIt() {
        var segmenter = Segmenter(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig])
        let v = videoSamples(frames: 3, keyframes: [0])
        let a = audioSamples(frames: 3)
        #expect(segmenter.push(v[0]) == [.append(v[0], segment: 0)])
        // The reference is at 0 s: even the first audio frame could still start a segment.
        #expect(segmenter.push(a[0]) == [])
        #expect(segmenter.push(a[1]) == [])
        #expect(segmenter.push(a[2]) == [])
        // At 0.04 s, frames starting at 0 and 0.0213 s are settled; 0.0427 s is not.
        #expect(segmenter.push(v[1]) == [.append(v[1], segment: 0), .append(a[0], segment: 0), .append(a[1], segment: 0)])
        #expect(segmenter.push(v[2]) == [.append(v[2], segment: 0), .append(a[2], segment: 0)])
        let finished = segmenter.finish()
        #expect(finished.actions == [.complete(track: 1, segment: 0), .complete(track: 2, segment: 0)])
    }

    @Test func heldAudioIsReleasedInOrderAcrossABoundary() {
        var segmenter = Segmenter(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig])
        let v = videoSamples(frames: 152, keyframes: keyframes(every: 50, frames: 152))
        let a = audioSamples(frames: 305)  // up to 6.5 s, ahead of the video
        for sample in v.prefix(150) { _ = segmenter.push(sample) }
        // The reference is at 5.96 s: frames up to 278 (5.9307 s + half a frame ≤ 5.96 s) are released at once.
        var released: [Segmenter.Action] = []
        for sample in a { released += segmenter.push(sample) }
        #expect(released == a.prefix(279).map { .append($0, segment: 0) })
        // The keyframe at 6 s cuts the video; audio frames 279 and 280 now belong to segment 0.
        #expect(segmenter.push(v[150]) == [
            .complete(track: 1, segment: 0), .append(v[150], segment: 1),
            .append(a[279], segment: 0), .append(a[280], segment: 0),
        ])
        // At 6.04 s, frame 281 (5.9947 s) is known to start audio segment 1.
        #expect(segmenter.push(v[151]) == [
            .append(v[151], segment: 1),
            .complete(track: 2, segment: 0), .append(a[281], segment: 1), .append(a[282], segment: 1),
        ])
        // finish() releases what is left, in order, then completes every track.
        let finished = segmenter.finish()
        #expect(finished.actions == a[283...].map { .append($0, segment: 1) }
                + [.complete(track: 1, segment: 1), .complete(track: 2, segment: 1)])
    }

    @Test func finishCompletesTheLastSegmentOfEveryTrack() {
        // 10 s of video, 10.5 s of audio: the audio tail is held until finish().
        let run = Run(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig],
                      samples: interleave(videoSamples(frames: 250, keyframes: keyframes(every: 50, frames: 250)),
                                          audioSamples(frames: 493)))
        #expect(run.finishActions.suffix(2) == [.complete(track: 1, segment: 1), .complete(track: 2, segment: 1)])
        let releasedByFinish = run.finishActions.dropLast(2).compactMap { action -> SampleTiming? in
            if case let .append(sample, segment) = action, segment == 1 { return sample }
            return nil
        }
        #expect(releasedByFinish.count == run.finishActions.count - 2)
        #expect(releasedByFinish.first?.track == 2)
        #expect(releasedByFinish.last == audioSamples(frames: 493).last)
        #expect(run.segments(track: 2).map(\.count) == [281, 212])
        run.checkProtocol()
    }

    @Test func finishWithoutSamplesDoesNothing() {
        var segmenter = Segmenter(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig])
        let finished = segmenter.finish()
        #expect(finished.actions.isEmpty)
        #expect(finished.misalignments.isEmpty)
    }

    @Test func audioOnlyCutsExactlyWhenFramesDivideTheTarget() {
        // 20 ms frames (960 samples): 2 s is exactly 100 frames.
        let config = Segmenter.TrackConfiguration(kind: .audio, frameDuration: audio(960))
        let run = Run(target: seconds(2), tracks: [2: config], samples: audioSamples(frames: 500, frameSize: 960))
        #expect(run.segmenter.reference == 2)
        #expect(run.segmenter.boundaries == [seconds(2), seconds(4), seconds(6), seconds(8)])
        #expect(run.segments(track: 2).map(\.count) == [100, 100, 100, 100, 100])
        run.checkProtocol()
    }

    @Test func audioOnlyCutsAtTheFrameNearestEachMultiple() {
        // AAC frames of 1024 samples; 10.24 s. Nearest frame starts to 2, 4, 6, 8, 10 s are
        // frames 94, 187 (exactly half a frame before 4 s), 281, 375, 469. A cut before its
        // multiple must not be followed by a second cut for the same multiple.
        let run = Run(target: seconds(2), tracks: [2: audioConfig], samples: audioSamples(frames: 480))
        #expect(run.segmenter.reference == 2)
        #expect(run.segmenter.boundaries == [94, 187, 281, 375, 469].map { audio($0 * 1024) })
        #expect(run.segments(track: 2).map(\.count) == [94, 93, 94, 94, 94, 11])
        run.checkProtocol()
    }
}

@Suite(.tags(.unit)) struct SegmenterAlignmentTests {
    @Test func alignedRenditionsShareCutsAndReportNoMisalignment() {
        let frames = 350, gop = keyframes(every: 50, frames: 350)
        let run = Run(target: seconds(6), tracks: [1: videoConfig, 2: audioConfig, 3: videoConfig],
                      samples: interleave(videoSamples(track: 1, frames: frames, keyframes: gop),
                                          audioSamples(frames: 657),
                                          videoSamples(track: 3, frames: frames, keyframes: gop)))
        #expect(run.segmenter.reference == 1)
        #expect(run.misalignments == [])
        #expect(run.segmenter.cuts(track: 3) == run.segmenter.cuts(track: 1))
        #expect(run.segmenter.cuts(track: 3) == [seconds(6), seconds(12)])
        #expect(run.segments(track: 3).map(\.count) == run.segments(track: 1).map(\.count))
        #expect(run.finishActions.suffix(3) == [
            .complete(track: 1, segment: 2), .complete(track: 2, segment: 2), .complete(track: 3, segment: 2),
        ])
        run.checkProtocol()
    }

    @Test func misalignedRenditionsAreReportedWithTheFirstDifferingBoundary() {
        let reference = videoSamples(track: 1, frames: 350, keyframes: keyframes(every: 50, frames: 350))
        // Track 3: the keyframe expected at 6 s comes at 6.4 s instead. Track 4: no keyframe after 6 s.
        let late = videoSamples(track: 3, frames: 350, keyframes: [0, 50, 100, 160, 200, 250, 300])
        let sparse = videoSamples(track: 4, frames: 350, keyframes: [0, 150])
        let run = Run(target: seconds(6), tracks: [1: videoConfig, 3: videoConfig, 4: videoConfig],
                      samples: interleave(reference, late, sparse))
        #expect(run.segmenter.cuts(track: 3) == [seconds(64, 10), seconds(12)])
        #expect(run.segmenter.cuts(track: 4) == [seconds(6)])
        #expect(run.misalignments.count == 2)
        guard run.misalignments.count == 2 else { return }
        let first = run.misalignments[0], second = run.misalignments[1]
        #expect(first.track == 3 && first.reference == 1 && first.boundary == 0)
        #expect(first.trackTime == seconds(64, 10))
        #expect(first.referenceTime == seconds(6))
        #expect(second.track == 4 && second.reference == 1 && second.boundary == 1)
        #expect(second.trackTime == nil)
        #expect(second.referenceTime == seconds(12))
    }
}
