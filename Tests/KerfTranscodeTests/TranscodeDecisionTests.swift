import KerfCore
import KerfPackager
import KerfTestTags
import KerfTranscode
import Testing

/// Copy or re-encode, decided before reading, on synthetic tracks and keyframe indexes.
@Suite(.tags(.unit)) struct TranscodeDecisionTests {
    func video(_ codec: String = "h264", fieldOrder: TrackInfo.FieldOrder = .progressive) -> TrackInfo {
        var track = TrackInfo(index: 0, mediaType: .video, codec: codec, timeBase: Rational(1, 12_800))
        track.width = 640
        track.height = 360
        track.frameRate = Rational(25, 1)
        track.fieldOrder = fieldOrder
        return track
    }

    func audio(_ codec: String = "aac") -> TrackInfo {
        var track = TrackInfo(index: 1, mediaType: .audio, codec: codec, timeBase: Rational(1, 48_000))
        track.sampleRate = 48_000
        return track
    }

    func keyframes(_ milliseconds: [Int64]) -> KeyframeIndex {
        KeyframeIndex(keyframeTimes: milliseconds.map { MediaTime(value: $0, timescale: 1000) }, sampleCount: 250)
    }

    func input(_ path: String, video: TrackInfo? = nil, audio: TrackInfo? = nil, index: KeyframeIndex? = nil) -> StreamCopyForecast.Input {
        StreamCopyForecast.Input(path: path, tracks: [video ?? self.video(), audio ?? self.audio()],
                                 keyframes: index.map { [0: $0] } ?? [:])
    }

    let regular = [0, 2000, 4000, 6000, 8000] as [Int64]
    let irregular = [0, 1320, 2080, 4760, 5200, 7960, 9400] as [Int64]
    let twoSeconds = MediaTime(value: 2, timescale: 1)

    func decide(_ inputs: [StreamCopyForecast.Input], mode: TranscodePlan.Mode = .auto, ladder: Bool = false) -> TranscodeDecision {
        TranscodeDecision(inputs: inputs, mode: mode, ladderRequested: ladder, cmaf: true, segmentDuration: twoSeconds)
    }

    func reason(_ treatment: TranscodePlan.Treatment?) -> String? {
        if case .transcode(let reason) = treatment { return reason }
        return nil
    }

    @Test func codecsInterlacingAndALadderDecideWithoutAnIndex() {
        let mpeg2 = decide([input("mpeg2.ts", video: video("mpeg2video"), audio: audio("mp2"))])
        #expect(mpeg2.basis == .metadata)
        #expect(reason(mpeg2.plans[0].treatments[0])?.contains("mpeg2video is not allowed") == true)
        #expect(reason(mpeg2.plans[0].treatments[1])?.contains("mp2 is not allowed") == true)

        let interlaced = decide([input("tff.mp4", video: video(fieldOrder: .topFieldFirst), index: keyframes(regular))])
        #expect(interlaced.basis == .metadata)
        #expect(reason(interlaced.plans[0].treatments[0])?.contains("interlaced") == true)

        let ladder = decide([input("a.mp4", index: keyframes(regular))], ladder: true)
        #expect(ladder.basis == .metadata)
        #expect(reason(ladder.plans[0].treatments[0]) == "a ladder was requested (--ladder)")

        let always = decide([input("a.mp4", index: keyframes(regular))], mode: .always)
        #expect(always.basis == .metadata && always.plans[0].transcodes)
    }

    @Test func misalignedIndexesSendTheVideoToReencodingBeforeReading() throws {
        let decision = decide([input("ladder.mp4", index: keyframes(regular)), input("irregular.mp4", index: keyframes(irregular))])
        #expect(decision.basis == .keyframeIndex)
        #expect(try #require(decision.keyframeProblem).reason.contains("irregular.mp4 cuts segment 2 at 2.080 s"))
        for plan in decision.plans {
            #expect(reason(plan.treatments[0]) == "renditions are not keyframe-aligned")
            #expect(plan.treatments[1] == .copy)
        }
    }

    @Test func longGOPsInTheIndexSendTheVideoToReencodingBeforeReading() {
        let decision = TranscodeDecision(inputs: [input("irregular.mp4", index: keyframes(irregular))], mode: .auto,
                                         ladderRequested: false, cmaf: true, segmentDuration: MediaTime(value: 1, timescale: 1))
        #expect(decision.basis == .keyframeIndex)
        #expect(reason(decision.plans[0].treatments[0]) == "GOP far longer than the segment duration")
    }

    @Test func copyableInputsAreCopiedAndSayWhetherTheirKeyframesAreKnown() {
        let indexed = decide([input("a.mp4", index: keyframes(regular)), input("b.mp4", index: keyframes(regular))])
        #expect(indexed.basis == .streamCopy && indexed.keyframesKnown)
        #expect(indexed.plans.allSatisfy { !$0.transcodes })

        let unindexed = decide([input("a.ts"), input("b.ts")])
        #expect(unindexed.basis == .streamCopy && !unindexed.keyframesKnown)
    }

    /// Under --transcode never nothing is forecast: the stream-copy pass reports the exact cut.
    @Test func neverLeavesKeyframeProblemsToThePass() {
        let decision = decide([input("ladder.mp4", index: keyframes(regular)), input("irregular.mp4", index: keyframes(irregular))],
                              mode: .never)
        #expect(decision.basis == .streamCopy && decision.keyframeProblem == nil)
        #expect(decision.plans.allSatisfy { !$0.transcodes })
    }

    @Test func aProblemFoundWhileReadingGivesTheSecondPassItsReason() {
        let first = decide([input("a.ts"), input("b.ts")])
        let second = first.reencodingVideo(because: PackagerError(.needsTranscoding, "renditions are not keyframe-aligned",
                                                                  reason: "b.ts cuts segment 2 at 2.080 s where a.ts cuts at 2.000 s"))
        #expect(second.basis == .streamCopyPass)
        for plan in second.plans {
            #expect(reason(plan.treatments[0]) == "renditions are not keyframe-aligned")
            #expect(plan.treatments[1] == .copy)
        }
    }
}
