import Testing
@testable import KerfCore
import KerfTestTags

@Suite(.tags(.unit)) struct StreamCopyVerdictTests {
    func video(_ codec: String = "h264", index: Int = 0) -> TrackInfo {
        var t = TrackInfo(index: index, mediaType: .video, codec: codec, timeBase: Rational(1, 12800))
        t.frameRate = Rational(25, 1)
        t.fieldOrder = .progressive
        return t
    }

    func audio(_ codec: String = "aac", index: Int = 1) -> TrackInfo {
        TrackInfo(index: index, mediaType: .audio, codec: codec, timeBase: Rational(1, 48000))
    }

    func gop(_ seconds: [Double]) -> GOPStatistics {
        GOPStatistics(keyframeTimes: seconds.map { MediaTime(value: Int64($0 * 1000), timescale: 1000) },
                      frameDuration: MediaTime(value: 40, timescale: 1000))
    }

    @Test func regularH264AndAACCanBeCopied() {
        let verdict = StreamCopyVerdict(tracks: [video(), audio()], gops: [0: gop([0, 2, 4, 6, 8])],
                                        targetSegmentDuration: 6)
        #expect(verdict.canStreamCopy)
        #expect(verdict.findings.isEmpty)
    }

    @Test func mpeg2AndMP2AreRefusedWithOneReasonEach() {
        let verdict = StreamCopyVerdict(tracks: [video("mpeg2video"), audio("mp2")], gops: [0: gop([0, 0.48])],
                                        targetSegmentDuration: 6)
        #expect(!verdict.canStreamCopy)
        #expect(verdict.findings.map(\.code) == [.codecNotAllowed, .codecNotAllowed])
        #expect(verdict.findings.map(\.track) == [0, 1])
    }

    @Test func gopLongerThanTheSegmentBlocks() {
        let verdict = StreamCopyVerdict(tracks: [video()], gops: [0: gop([0, 10, 20])], targetSegmentDuration: 6)
        #expect(!verdict.canStreamCopy)
        #expect(verdict.findings.first?.code == .gopTooLong)
        #expect(verdict.findings.first?.message.contains("10 s") == true)
    }

    @Test func gopWithinOneFrameOfTheTargetIsAccepted() {
        let verdict = StreamCopyVerdict(tracks: [video()], gops: [0: gop([0, 2.0, 4.0])], targetSegmentDuration: 2)
        #expect(verdict.canStreamCopy)
    }

    @Test func interlacedAndKeyframelessVideoBlock() {
        var interlaced = video()
        interlaced.fieldOrder = .topFieldFirst
        let verdict = StreamCopyVerdict(tracks: [interlaced], gops: [0: gop([])], targetSegmentDuration: 6)
        #expect(Set(verdict.findings.map(\.code)) == [.interlaced, .noKeyframes])
        #expect(!verdict.canStreamCopy)
    }

    @Test func irregularKeyframesAreANoteNotABlock() {
        let verdict = StreamCopyVerdict(tracks: [video()], gops: [0: gop([0, 1.32, 2.08, 4.76])],
                                        targetSegmentDuration: 6)
        #expect(verdict.canStreamCopy)
        #expect(verdict.findings.map(\.code) == [.irregularKeyframes])
        #expect(verdict.findings.allSatisfy { !$0.blocking })
    }

    @Test func fileWithoutMediaIsRefused() {
        let text = TrackInfo(index: 0, mediaType: .subtitle, codec: "subrip", timeBase: Rational(1, 1000))
        let verdict = StreamCopyVerdict(tracks: [text], gops: [:], targetSegmentDuration: 6)
        #expect(!verdict.canStreamCopy)
        #expect(verdict.findings.map(\.code) == [.noMediaTracks])
    }

    @Test func videoRangeFollowsTheTransferCharacteristics() {
        var t = video()
        #expect(t.videoRange == "SDR")
        t.transferCharacteristics = "smpte2084"
        #expect(t.videoRange == "PQ")
        t.transferCharacteristics = "arib-std-b67"
        #expect(t.videoRange == "HLG")
        t.transferCharacteristics = "bt709"
        #expect(t.videoRange == "SDR")
    }

    @Test func gopStatisticsMeasureIntervals() {
        let stats = gop([4, 0, 2, 6])
        #expect(stats.keyframeCount == 4)
        #expect(stats.minInterval == 2)
        #expect(stats.maxInterval == 2)
        #expect(stats.meanInterval == 2)
        #expect(stats.isRegular)
        #expect(!gop([0, 1.32, 2.08]).isRegular)
        #expect(gop([0]).minInterval == nil)
    }
}
