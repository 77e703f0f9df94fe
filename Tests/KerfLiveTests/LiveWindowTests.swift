import KerfCore
import KerfManifest
import KerfPackager
import KerfTestTags
import NIOCore
import Testing
@testable import KerfLive

/// The live window filled by hand: sliding, memory horizon, journal replay, archive failures.
@Suite(.tags(.unit)) struct LiveWindowTests {
    /// The window's journal replayed into a fresh window renders the same playlists and MPD;
    /// segments that leave the window are reported for deletion, older bytes leave memory.
    @Test func windowJournalReplaysToTheSameDocuments() throws {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.width = 320
        info.height = 180
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video_180p", name: "video", language: nil)
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 6, timescale: 1),
                                memoryHorizon: MediaTime(value: 4, timescale: 1))
        var removed: [String] = []
        var now = 1_000_000.0
        for epochIndex in 0..<2 {
            let start = window.nextEpochStart(now: now)
            let epoch = window.beginEpoch(tracks: [track], start: start, now: now)
            window.addInit(folder: "video_180p", epoch: epoch.id, bytes: [UInt8](repeating: UInt8(epochIndex), count: 16), timescale: 90_000)
            for index in 0..<10 {
                let segment = LivePackager.Segment(track: 0, start: start.rescaled(to: 90_000) + MediaTime(value: Int64(index) * 180_000, timescale: 90_000),
                                                   duration: MediaTime(value: 180_000, timescale: 90_000), bytes: [UInt8](repeating: 7, count: 1000))
                now += 2
                removed += window.addSegment(folder: "video_180p", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: segment.bytes),
                                             etag: LiveWindow.etag(segment.bytes)).map(\.name)
                window.publish(now: now)
            }
        }
        // 40 s of media, 6 s listed, kept a window and a target duration more: the rest went,
        // with the first epoch's init segment.
        let kept = window.presentation.tracks["video_180p"]!.segments
        #expect(kept.count == 8, "\(kept.count)")
        #expect(removed.filter { $0.hasPrefix("seg_") }.count == 12, "\(removed)")
        #expect(removed.filter { $0.hasPrefix("init_") }.count == 1, "\(removed)")
        // Only segments ending within 4 s of the edge (the horizon) keep their bytes in memory.
        #expect(kept.filter { window.stored[$0.uri]?.body != nil }.count == 3)
        #expect(kept.suffix(3).allSatisfy { window.stored[$0.uri]?.body != nil })

        var copy = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 6, timescale: 1),
                              memoryHorizon: MediaTime(value: 4, timescale: 1))
        for record in window.records() {
            var initBytes: [UInt8]?
            if case .initialization(_, let epoch, _) = record { initBytes = [UInt8](repeating: epoch == window.epochs.last!.id ? 1 : 0, count: 16) }
            copy.replay(record, initBytes: initBytes)
        }
        #expect(copy.finishReplay(now: now).isEmpty)
        #expect(copy.documents["video_180p/playlist.m3u8"]?.body == window.documents["video_180p/playlist.m3u8"]?.body)
        #expect(copy.documents["master.m3u8"]?.body == window.documents["master.m3u8"]?.body)
        let mpd = try #require(window.mpd), copied = try #require(copy.mpd)
        #expect(copied.head + copied.tail == mpd.head + mpd.tail)
        // A new epoch after the replay continues the sequence numbers with a discontinuity.
        let next = copy.beginEpoch(tracks: [track], start: copy.nextEpochStart(now: now + 1), now: now + 1)
        copy.addInit(folder: "video_180p", epoch: next.id, bytes: [2], timescale: 90_000)
        let segment = LivePackager.Segment(track: 0, start: next.start.rescaled(to: 90_000), duration: MediaTime(value: 180_000, timescale: 90_000),
                                           bytes: [1, 2, 3])
        copy.addSegment(folder: "video_180p", epoch: next.id, segment: segment, body: ByteBuffer(bytes: [1, 2, 3]), etag: "\"x\"")
        #expect(copy.presentation.tracks["video_180p"]!.segments.last!.sequence == kept.last!.sequence + 1)
        #expect(copy.presentation.tracks["video_180p"]!.segments.last!.discontinuity)
    }

    /// A segment whose archive write failed keeps its bytes in memory past the horizon (memory
    /// is its only copy); it stays in the journal, so a restart numbers what follows alike.
    /// A blocking request is judged by the playlist installed, not by the segments added since:
    /// between a segment being added (then archived) and the playlists listing it being
    /// rendered and installed, a request for it is held, not answered with the old playlist.
    @Test func blockingRequestsWaitForTheInstalledPlaylist() throws {
        let made = LowLatencyTestWindow.make(window: 12, origin: 1_000)
        var window = made.window
        let epoch = made.epoch
        func add(_ index: Int) {
            let segment = LivePackager.Segment(track: 0, start: MediaTime(value: Int64(index) * 180_000, timescale: 90_000),
                                               duration: MediaTime(value: 180_000, timescale: 90_000), bytes: [1])
            _ = window.addSegment(folder: "video", epoch: epoch, segment: segment, body: ByteBuffer(bytes: [1]), etag: "\"\(index)\"")
        }
        add(0)
        window.publish(now: 1_002)
        let first = try #require(window.presentation.tracks["video"]?.segments.last?.sequence)
        #expect(window.hasPublished(folder: "video", sequence: first, part: nil))
        add(1)
        // Added, not yet listed by the installed playlist.
        #expect(!window.hasPublished(folder: "video", sequence: first + 1, part: nil))
        window.publish(now: 1_004)
        #expect(window.hasPublished(folder: "video", sequence: first + 1, part: nil))
        #expect(String(buffer: try #require(window.documents["video/playlist.m3u8"]).body).contains("seg_180000.m4s"))
    }

    @Test func unarchivedSegmentStaysInMemory() throws {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video", name: "video", language: nil)
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 20, timescale: 1),
                                memoryHorizon: MediaTime(value: 4, timescale: 1))
        var now = 1_000_000.0
        let epoch = window.beginEpoch(tracks: [track], start: window.nextEpochStart(now: now), now: now)
        window.addInit(folder: "video", epoch: epoch.id, bytes: [0], timescale: 90_000)
        for index in 0..<8 {
            let segment = LivePackager.Segment(track: 0, start: epoch.start.rescaled(to: 90_000) + MediaTime(value: Int64(index) * 180_000, timescale: 90_000),
                                               duration: MediaTime(value: 180_000, timescale: 90_000), bytes: [UInt8(index)])
            now += 2
            window.addSegment(folder: "video", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: segment.bytes),
                              etag: LiveWindow.etag(segment.bytes))
            if index == 1 { window.keepInMemory(folder: "video", sequence: window.presentation.tracks["video"]!.segments.last!.sequence) }
        }
        let segments = window.presentation.tracks["video"]!.segments
        #expect(segments.count == 8)
        #expect(segments.map { window.stored[$0.uri]?.body != nil } == [false, true, false, false, false, true, true, true])
        let journaled = window.records().compactMap { record -> UInt64? in
            if case .segment(_, _, let sequence, _, _, _, _, _, _) = record { return sequence } else { return nil }
        }
        #expect(journaled == segments.map(\.sequence))
    }

    /// `dash-timeline: period` lists every segment since the Period start, even past the cap of
    /// remembered runs (segments of alternating durations make one run each); `window` lists
    /// only the window.
    @Test(arguments: [ChannelConfiguration.DASHTimeline.period, .window])
    func dashTimelinesStartAtThePeriodStart(_ timeline: ChannelConfiguration.DASHTimeline) throws {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.width = 320
        info.height = 180
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video_180p", name: "video", language: nil)
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 6, timescale: 1))
        window.dashTimeline = timeline
        let now = 1_000.0
        let start = window.nextEpochStart(now: now)
        let epoch = window.beginEpoch(tracks: [track], start: start, now: now)
        window.addInit(folder: "video_180p", epoch: epoch.id, bytes: [1], timescale: 90_000)
        var time = start.rescaled(to: 90_000)
        let count = Presentation.earlierRunLimit + 200
        for index in 0..<count {
            let duration = MediaTime(value: index % 2 == 0 ? 180_000 : 183_600, timescale: 90_000)
            let segment = LivePackager.Segment(track: 0, start: time, duration: duration, bytes: [7])
            _ = window.addSegment(folder: "video_180p", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: [7]), etag: "\"\(index)\"")
            time = time + duration
        }
        window.publish(now: now + Double(count) * 2)
        let mpd = try #require(window.mpd)
        let text = mpd.head + mpd.tail
        let entries = text.matches(of: /<S (t="([0-9]+)" )?d="([0-9]+)"( r="([0-9]+)")?\/>/)
        let first = try #require(entries.first?.2.flatMap { Int64($0) })
        let listed = entries.reduce(0) { $0 + 1 + ($1.5.flatMap { Int($0) } ?? 0) }
        if timeline == .period {
            #expect(first == start.rescaled(to: 90_000).value, "the timeline starts at \(first), the Period at \(start)")
            // The cap drops runs after the first: fewer S than segments, a @t where they went.
            #expect(listed < count && entries.count <= Presentation.earlierRunLimit + 10)
            #expect(entries.filter { $0.1 != nil }.count == 2)
        } else {
            #expect(first > start.rescaled(to: 90_000).value && listed <= 4)
        }
    }
}
