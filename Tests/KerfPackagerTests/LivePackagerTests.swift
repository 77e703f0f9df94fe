import Foundation
import KerfCore
import KerfMedia
import KerfTestSupport
import Testing
@testable import KerfPackager
import KerfTestTags

/// The live packager on a fixture read packet by packet: segments come out in memory, placed on
/// the channel timeline, and ffprobe reads them back.
@Suite(.tags(.integration)) struct LivePackagerTests {
    struct Run {
        var inits: [Int: (bytes: [UInt8], timescale: Int64)] = [:]
        var segments: [LivePackager.Segment] = []
        var transport: [(variant: Int, segment: LivePackager.Segment)] = []
        var parts: [(track: Int, part: PartRecord, bytes: [UInt8])] = []
        var discontinuityAt: Int?
        var boundaries: [MediaTime] = []
    }

    /// Pushes every packet of `fixture`; `shift` rewrites a packet's timestamps first.
    static func run(_ fixture: String, offset: MediaTime, transportStream: Bool = false, partDuration: MediaTime? = nil,
                    mediaTimeline: MediaTime? = nil, encryption: CommonEncryption? = nil, skip: Int = 0,
                    splicePoints: [MediaTime] = [], shift: ((Packet) -> Void)? = nil) throws -> (LivePackager, Run) {
        let input = try MediaInput(url: Fixtures.path(fixture))
        let packager = try LivePackager(input: input, segmentDuration: MediaTime(value: 2, timescale: 1), timelineOffset: offset,
                                        transportStream: transportStream, partDuration: partDuration, encryption: encryption)
        packager.mediaTimeline = mediaTimeline
        for point in splicePoints { packager.addSplicePoint(point) }
        // A late joiner: the first `skip` packets never reach the packager.
        for _ in 0..<skip { _ = try input.read(into: Packet()) }
        var run = Run()
        func take(_ events: [LivePackager.Event]) {
            for event in events {
                switch event {
                case .initialization(let track, let bytes, let timescale): run.inits[track] = (bytes, timescale)
                case .segment(let segment): run.segments.append(segment)
                case .transportSegment(let variant, let segment): run.transport.append((variant, segment))
                case .part(let track, let part, let bytes): run.parts.append((track, part, bytes))
                case .boundary(let start): run.boundaries.append(start)
                }
            }
        }
        let packet = Packet()
        var count = 0
        while try input.read(into: packet) == .packet {
            shift?(packet)
            let (result, events) = try packager.push(packet)
            take(events)
            if result == .discontinuity {
                run.discontinuityAt = count
                break
            }
            count += 1
        }
        if run.discontinuityAt == nil { take(try packager.finish()) }
        return (packager, run)
    }

    @Test func segmentsAreContinuousOnTheChannelTimeline() throws {
        let (packager, run) = try Self.run("h264_aac_10s.mp4", offset: MediaTime(value: 5, timescale: 1))
        #expect(packager.tracks.map(\.folder) == ["video_360p", "audio_und_aac"])
        #expect(run.inits.count == 2)
        for track in packager.tracks.indices {
            let timescale = try #require(run.inits[track]).timescale
            let segments = run.segments.filter { $0.track == track }
            #expect(segments.count == 5)
            // Starts at the epoch's channel time, each segment where the previous one ended.
            #expect(segments.first?.start == MediaTime(value: 5 * timescale, timescale: timescale))
            #expect(segments.allSatisfy { $0.start.timescale == timescale && $0.duration.timescale == timescale })
            for (a, b) in zip(segments, segments.dropFirst()) { #expect(a.start + a.duration == b.start) }
            let total = segments.reduce(MediaTime.zero(timescale: timescale)) { $0 + $1.duration }.seconds
            #expect(abs(total - 10) < 0.05, "\(total) s")
            if packager.tracks[track].kind == .video {
                #expect(segments.allSatisfy { $0.duration == MediaTime(value: 2, timescale: 1) })
            }
        }
        // ffprobe reads init + segment 3 of the video as 2 s of H.264 starting with a keyframe at
        // 9 s (ffmpeg 5.1 shifts samples with negative composition offsets by the B-frame delay,
        // 2 frames here).
        let file = try Fixtures.temporaryDirectory("kerf-live-packager").appendingPathComponent("v.mp4")
        let video = run.segments.filter { $0.track == 0 }
        try Data(run.inits[0]!.bytes + video[2].bytes).write(to: file)
        let probe = try Command.run("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,flags",
                                                "-of", "csv=p=0", file.path])
        let lines = probe.stdout.split(separator: "\n")
        #expect(lines.count == 50)
        let first = try #require(lines.first?.split(separator: ","))
        #expect(first.count == 2 && first[1].hasPrefix("K"))
        let start = try #require(Double(first[0]))
        #expect(start >= 9 && start <= 9.08 + 1e-9, "\(start)")
    }

    /// MPEG-TS variants: video muxed with audio, one segment per video segment with its timing,
    /// timestamps on the channel timeline (ffprobe reads them).
    /// A splice point between keyframes cuts at the next keyframe (off the grid), and the
    /// boundary announced is exactly where that segment starts.
    @Test func splicePointCutsAtTheNextKeyframe() throws {
        let offset = MediaTime(value: 5, timescale: 1)
        // Keyframes at 0, 1.32, 2.08, 4.76, 5.2, 7.96, 9.4 s: 5.1 s has none, 5.2 s is off the 2 s grid.
        let (packager, run) = try Self.run("h264_irregular_gop.mp4", offset: offset,
                                           splicePoints: [offset + MediaTime(value: 51, timescale: 10)])
        let video = try #require(packager.tracks.first { $0.kind == .video })
        let starts = run.segments.filter { $0.track == video.number }.map(\.start)
        let cut = offset + MediaTime(value: 52, timescale: 10)
        #expect(starts.contains(cut), "\(starts.map(\.seconds))")
        #expect(run.boundaries.contains(cut))
        #expect(run.boundaries.allSatisfy { starts.contains($0) }, "\(run.boundaries.map(\.seconds))")
    }

    @Test func transportSegmentsFollowTheVideoSegments() throws {
        let (packager, run) = try Self.run("h264_aac_10s.mp4", offset: MediaTime(value: 5, timescale: 1), transportStream: true)
        #expect(packager.transportVariants.map(\.folder) == ["ts_video_360p"])
        #expect(packager.transportVariants.first?.members == [0, 1])
        let video = run.segments.filter { $0.track == 0 }
        #expect(run.transport.count == 5)
        #expect(run.transport.map(\.segment.start) == video.map(\.start))
        #expect(run.transport.map(\.segment.duration) == video.map(\.duration))
        let directory = try Fixtures.temporaryDirectory("kerf-live-ts")
        for (index, entry) in run.transport.enumerated() {
            let file = directory.appendingPathComponent("\(index).ts")
            try Data(entry.segment.bytes).write(to: file)
            let probe = try Command.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,start_time", "-of", "csv=p=0", file.path])
            let streams = probe.stdout.split(separator: "\n").map { $0.split(separator: ",") }
            #expect(streams.prefix(2).map { $0.first.map(String.init) } == ["h264", "aac"], "\(probe.stdout)")
            let start = Double(streams.first?.last ?? "") ?? 0
            #expect(abs(start - (5 + 2 * Double(index))) < 0.05, "segment \(index) starts at \(start)")
        }
    }

    /// Low latency: each segment also comes out as parts no longer than the target, the first
    /// of each video segment independent, and a segment's parts put end to end are the segment.
    @Test func partsMakeUpTheirSegments() throws {
        let (packager, run) = try Self.run("h264_aac_10s.mp4", offset: MediaTime(value: 5, timescale: 1),
                                           partDuration: MediaTime(value: 500, timescale: 1000))
        for track in packager.tracks.indices {
            let segments = run.segments.filter { $0.track == track }
            let parts = run.parts.filter { $0.track == track }
            let timescale = try #require(run.inits[track]).timescale
            #expect(parts.allSatisfy { $0.part.duration <= MediaTime(value: 1, timescale: 2) }, "a part longer than 0.5 s")
            for (index, segment) in segments.enumerated() {
                let own = parts.filter { $0.part.segment == index }
                #expect(own.map(\.part.index) == Array(0..<own.count))
                #expect(own.first?.part.segmentStart == segment.start)
                #expect(own.flatMap(\.bytes) == segment.bytes, "track \(track) segment \(index)")
                #expect(own.reduce(MediaTime.zero(timescale: timescale)) { $0 + $1.part.duration } == segment.duration)
                if packager.tracks[track].kind == .video { #expect(own.first?.part.independent == true) }
            }
        }
    }

    @Test func timestampJumpAsksForANewEpoch() throws {
        // From 5 s on, every timestamp moves 100 s later: the input jumped.
        let (_, run) = try Self.run("h264_aac_10s.mp4", offset: .zero(timescale: 1)) { packet in
            guard let time = packet.dts ?? packet.pts, time.seconds >= 5 else { return }
            let ticks = MediaTime(value: 100, timescale: 1).ticks(of: packet.timeBase)
            packet.ptsTicks = packet.ptsTicks.map { $0 + ticks }
            packet.dtsTicks = packet.dtsTicks.map { $0 + ticks }
        }
        let at = try #require(run.discontinuityAt)
        #expect(at > 100 && at < 400)
        // The segments before the jump were published (0–2 s, 2–4 s of video at least).
        #expect(run.segments.filter { $0.track == 0 }.count >= 2)
    }

    /// Video stops while audio flows: once audio has waited for more than the limit, the packager
    /// asks for a new epoch instead of holding audio without bound.
    @Test func stalledReferenceEndsTheEpoch() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let packager = try LivePackager(input: input, segmentDuration: MediaTime(value: 2, timescale: 1))
        packager.maximumHeldSamples = 50
        let video = try #require(input.tracks.first { $0.mediaType == .video }).index
        let packet = Packet()
        var videoPackets = 0, result = LivePackager.PushResult.accepted
        while result == .accepted, try input.read(into: packet) == .packet {
            if packet.streamIndex == video {
                videoPackets += 1
                if videoPackets > 10 { continue }  // the video track goes silent
            }
            result = try packager.push(packet).result
        }
        #expect(result == .discontinuity)
    }
}
