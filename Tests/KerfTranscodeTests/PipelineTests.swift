import Logging
import Testing
import KerfCore
import KerfMedia
import KerfTestSupport
@testable import KerfTranscode
import KerfTestTags

@Suite(.tags(.unit)) struct PipelineTests {
    func packet(_ dts: Int64, track: Int) -> Packet {
        let packet = Packet()
        packet.timeBase = Rational(1, 1000)
        packet.dtsTicks = dts
        packet.ptsTicks = dts
        packet.streamIndex = track
        return packet
    }

    @Test func collectorMergesByDecodeTimeAndNeverWaitsForSparseTracks() throws {
        let collector = PacketCollector(sparse: [false, false, true])
        collector.append(packet(40, track: 0), track: 0)
        // Track 1 has nothing yet: more input is needed before anything can go out.
        guard case .needsInput = try collector.next(inputExhausted: false) else { Issue.record("merged too early"); return }
        collector.append(packet(20, track: 1), track: 1)
        collector.append(packet(60, track: 1), track: 1)
        var order: [Int64] = []
        while case .packet(let next) = try collector.next(inputExhausted: false) { order.append(next.dtsTicks!) }
        #expect(order == [20, 40])
        collector.finish(track: 0)
        collector.finish(track: 2)
        guard case .packet(let last) = try collector.next(inputExhausted: false), last.dtsTicks == 60 else {
            Issue.record("finished tracks still waited for")
            return
        }
        collector.finish(track: 1)
        guard case .endOfStream = try collector.next(inputExhausted: true) else { Issue.record("no end"); return }
    }

    @Test func collectorReportsAProducerFailure() {
        let collector = PacketCollector(sparse: [false])
        collector.fail(TranscodeError(.failed, "encoder broke"))
        #expect(throws: TranscodeError.self) { _ = try collector.next(inputExhausted: true) }
    }

    @Test func boundedQueueKeepsOrderAndRefusesPushesOnceCancelled() {
        let queue = BoundedQueue<Int>(capacity: 2)
        #expect(queue.push(1) && queue.push(2))
        #expect(queue.pop() == 1)
        #expect(queue.push(3))
        queue.close()
        #expect(!queue.push(4))
        #expect(queue.pop() == 2 && queue.pop() == 3 && queue.pop() == nil)
        let cancelled = BoundedQueue<Int>(capacity: 1)
        #expect(cancelled.push(1))
        cancelled.cancel()
        #expect(cancelled.pop() == nil && !cancelled.push(2))
    }

    @Test func corruptAudioPacketsAreCountedAndSkipped() throws {
        let input = try MediaInput(url: Fixtures.path("mpeg2_mp2.ts"))
        let track = try #require(input.tracks.first { $0.mediaType == .audio })
        let collector = PacketCollector(sparse: [false])
        let audio = try AudioTranscoder(track: 0, source: track, parameters: input.codecParameters(track: track.index),
                                        collector: collector, file: "mpeg2_mp2.ts")
        var generator = SplitMix(seed: 5)
        let garbage = try Packet(bytes: (0..<400).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        garbage.timeBase = track.timeBase
        try audio.decode(garbage)
        let errors = audio.errors
        #expect(errors.count >= 1 && errors.first != nil)
        let packet = Packet()
        while try input.read(into: packet) == .packet {
            if packet.streamIndex == track.index { try audio.decode(packet) }
        }
        try audio.finish()
        let decoded = audio.errors.decoded
        #expect(decoded > 0)
        var packets = 0
        while case .packet = try collector.next(inputExhausted: true) { packets += 1 }
        #expect(packets > 10)
    }

    @Test func aVideoStreamThatNeverDecodesFailsWithAClearError() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let track = try #require(input.tracks.first { $0.mediaType == .video })
        let rungs = try Ladder.parse("180p:100k").resolved(sourceWidth: 640, sourceHeight: 360).rungs
        let ladder = try VideoLadder(source: track, parameters: input.codecParameters(track: track.index), rungs: rungs, tracks: [0],
                                     family: .software, device: nil, decodeDevice: nil,
                                     segmentDuration: MediaTime(value: 2, timescale: 1), collector: PacketCollector(sparse: [false]),
                                     threadsPerEncoder: 1, file: "garbage.mp4", logger: Logger(label: "test"))
        defer { ladder.cancel(); ladder.join() }
        var generator = SplitMix(seed: 9)
        for _ in 0..<20 {
            let garbage = try Packet(bytes: [0, 0, 0, 1] + (0..<300).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            garbage.timeBase = track.timeBase
            try ladder.decode(garbage)
        }
        #expect {
            try ladder.finish()
        } throws: { error in
            guard let error = error as? TranscodeError else { return false }
            return error.code == .undecodable && error.message == "video stream 0 (h264) cannot be decoded" && error.isInputError
        }
    }

    /// The ladder from the irregular-GOP fixture: every rung's keyframes are exactly the
    /// segment boundaries, at identical timestamps.
    @Test func everyRungHasKeyframesAtTheSameBoundariesOnly() throws {
        let input = try MediaInput(url: Fixtures.path("h264_irregular_gop.mp4"))
        let plan = TranscodePlan(tracks: input.tracks, mode: .always, ladderRequested: true, cmaf: true)
        let rungs = try Ladder.parse("360p:500k,270p:300k,180p:150k").resolved(sourceWidth: 640, sourceHeight: 360).rungs
        let source = try TranscodingSource(input: input, plan: plan, rungs: rungs, family: .software, device: nil,
                                           decodeDevice: nil, segmentDuration: MediaTime(value: 2, timescale: 1),
                                           logger: Logger(label: "test"))
        #expect(source.tracks.map(\.codec) == ["h264", "h264", "h264", "aac"])
        #expect(source.tracks.compactMap(\.height) == [360, 270, 180])
        var keyframes: [Int: [Double]] = [:]
        var frames: [Int: Int] = [:]
        var lastDTS: [Int: Double] = [:]
        let packet = Packet()
        var previous: Double = -.infinity
        while try source.read(into: packet) == .packet {
            let dts = try #require(packet.dts).seconds
            #expect(dts >= previous - 1e-9, "packets out of decode order")
            previous = dts
            if let last = lastDTS[packet.streamIndex] { #expect(dts > last) }
            lastDTS[packet.streamIndex] = dts
            guard packet.streamIndex < 3 else { continue }
            frames[packet.streamIndex, default: 0] += 1
            if packet.isKeyframe { keyframes[packet.streamIndex, default: []].append(try #require(packet.pts).seconds) }
        }
        #expect(frames == [0: 250, 1: 250, 2: 250])
        let first = try #require(keyframes[0])
        #expect(first.map { (($0 - first[0]) * 1000).rounded() } == [0, 2000, 4000, 6000, 8000])
        #expect(keyframes[1] == first && keyframes[2] == first)
        #expect(source.rungReports.map(\.frames) == [250, 250, 250])
    }
}
