import Testing
import KerfCore
import KerfTranscode
import KerfTestTags

@Suite(.tags(.unit)) struct TranscodePlanTests {
    func track(_ index: Int, _ type: TrackInfo.MediaType, _ codec: String) -> TrackInfo {
        var info = TrackInfo(index: index, mediaType: type, codec: codec, timeBase: Rational(1, 90_000))
        if type == .video { info.width = 640; info.height = 360; info.fieldOrder = .progressive }
        return info
    }

    @Test func autoReencodesOnlyWhatCannotBeCopiedAndSaysWhy() {
        let plan = TranscodePlan(tracks: [track(0, .video, "mpeg2video"), track(1, .audio, "aac"), track(2, .subtitle, "mov_text")],
                                 mode: .auto, ladderRequested: false, cmaf: true)
        guard case .transcode(let reason) = plan.treatments[0] else { Issue.record("video not re-encoded"); return }
        #expect(reason.contains("mpeg2video is not allowed"))
        #expect(plan.treatments[1] == .copy && plan.treatments[2] == .copy)
        #expect(plan.ladderTrack == 0 && plan.transcodes)

        let copyable = TranscodePlan(tracks: [track(0, .video, "h264"), track(1, .audio, "mp2")], mode: .auto,
                                     ladderRequested: false, cmaf: true)
        #expect(copyable.treatments[0] == .copy && copyable.ladderTrack == nil)
        guard case .transcode(let audio) = copyable.treatments[1] else { Issue.record("mp2 copied"); return }
        #expect(audio.contains("mp2 is not allowed"))
    }

    @Test func interlacedVideoAndMP3InCMAFAreReencoded() {
        var interlaced = track(0, .video, "h264")
        interlaced.fieldOrder = .topFieldFirst
        let plan = TranscodePlan(tracks: [interlaced, track(1, .audio, "mp3")], mode: .auto, ladderRequested: false, cmaf: true)
        #expect(plan.treatments[0] != .copy && plan.treatments[1] != .copy)
        let tsOnly = TranscodePlan(tracks: [track(0, .video, "h264"), track(1, .audio, "mp3")], mode: .auto,
                                   ladderRequested: false, cmaf: false)
        #expect(tsOnly.treatments[1] == .copy && !tsOnly.transcodes)
    }

    @Test func modesLadderAndStreamCopyFailures() {
        let tracks = [track(0, .video, "h264"), track(1, .audio, "aac")]
        let always = TranscodePlan(tracks: tracks, mode: .always, ladderRequested: false, cmaf: true)
        #expect(always.treatments[0] == .transcode(reason: "--transcode always"))
        #expect(always.treatments[1] == .transcode(reason: "--transcode always"))
        let never = TranscodePlan(tracks: [track(0, .video, "mpeg2video")], mode: .never, ladderRequested: true, cmaf: true)
        #expect(never.treatments[0] == .copy && !never.transcodes)
        let ladder = TranscodePlan(tracks: tracks, mode: .auto, ladderRequested: true, cmaf: true)
        #expect(ladder.treatments[0] == .transcode(reason: "a ladder was requested (--ladder)") && ladder.treatments[1] == .copy)
        let longGOP = TranscodePlan(tracks: tracks, mode: .auto, ladderRequested: false, cmaf: true,
                                    videoReason: "GOP far longer than the segment duration")
        #expect(longGOP.treatments[0] == .transcode(reason: "GOP far longer than the segment duration"))
    }

    @Test func onlyTheFirstVideoStreamIsReencodedAndOthersAreLeftOut() {
        let plan = TranscodePlan(tracks: [track(0, .video, "mpeg2video"), track(1, .video, "h264"), track(2, .data, "bin_data")],
                                 mode: .auto, ladderRequested: false, cmaf: true)
        #expect(plan.ladderTrack == 0)
        guard case .drop = plan.treatments[1], case .drop = plan.treatments[2] else {
            Issue.record("second video or data stream kept: \(plan.treatments)")
            return
        }
    }
}
