import Foundation
import KerfCore
import KerfManifest
import KerfTestSupport
import KerfTestTags
import Logging
import Testing
@testable import KerfLive

/// A live channel on a `ManualClock`: a file input looped at "real-time" pace runs as fast as
/// it can be packaged, and the wall-clock rules (the timeline anchored to the clock, pacing, a
/// new epoch when the input falls behind the clock, availability times) are checked exactly.
@Suite(.tags(.unit)) struct ClockedChannelTests {
    static let start = 1_800_000_000.0

    /// Runs a channel looping the 10 s fixture until `done` holds for its window (or 60 s of
    /// real time pass), then stops it. `during` runs once per check while it waits.
    static func run(_ clock: ManualClock, window: Double = 60, timeline: ChannelConfiguration.Timeline = .channelStart,
                    archive: String? = nil, during: @escaping @Sendable (LiveChannel) -> Void = { _ in },
                    until done: @escaping @Sendable (LiveWindow) -> Bool) throws -> LiveWindow {
        var configuration = ChannelConfiguration(input: Fixtures.path("h264_aac_10s.mp4"), segmentDuration: 2, window: window)
        configuration.timeline = timeline
        configuration.archive = archive
        return try run(configuration, clock, during: during, until: done)
    }

    /// Runs a channel of `configuration` on `clock` until `done` holds for its window (or
    /// `seconds` of real time pass), then stops it and returns its window.
    static func run(_ configuration: ChannelConfiguration, _ clock: ManualClock, seconds: Double = 60,
                    during: @escaping @Sendable (LiveChannel) -> Void = { _ in },
                    until done: @escaping @Sendable (LiveWindow) -> Bool) throws -> LiveWindow {
        let channel = try LiveChannel(name: "loop", configuration: configuration, metrics: .unregistered(name: "loop"),
                                      logger: Logger(label: "test"), clock: clock)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            channel.run()
            finished.signal()
        }
        let deadline = Date().addingTimeInterval(seconds)
        while !channel.window.withLock({ done($0) }), Date() < deadline {
            during(channel)
            Thread.sleep(forTimeInterval: 0.01)
        }
        channel.stop()
        finished.wait()
        return channel.window.withLock { $0 }
    }

    /// Channel time 0 is where the clock stood when the channel started (`timeline:
    /// channel-start`, the default: small media times, availabilityStartTime that instant) or
    /// 1970 (`timeline: unix`); either way the clock anchors the timeline.
    @Test(arguments: [ChannelConfiguration.Timeline.channelStart, .unix])
    func theTimelineIsTheClockAndLoopsContinueIt(timeline: ChannelConfiguration.Timeline) throws {
        let clock = ManualClock(Self.start)
        let window = try Self.run(clock, timeline: timeline) { ($0.presentation.tracks["video_360p"]?.segments.count ?? 0) >= 8 }
        let video = try #require(window.presentation.tracks["video_360p"])
        try #require(video.segments.count >= 8, "the channel published \(video.segments.count) segments")
        let origin = timeline == .unix ? 0 : Self.start
        #expect(window.origin == origin)
        // One epoch, anchored where the clock stood when the first keyframe came.
        #expect(window.epochs.count == 1)
        let epoch = try #require(window.epochs.first)
        #expect(epoch.start == MediaTime(value: Int64((Self.start - origin) * 1000), timescale: 1000))
        #expect(video.segments.first?.start == epoch.start)
        // The loop goes on where the file ended: segments follow each other without a gap.
        for (a, b) in zip(video.segments, video.segments.dropFirst()) { #expect(a.start + a.duration == b.start) }
        #expect(video.segments.allSatisfy { !$0.discontinuity })
        // Sequence numbers start at the number of 2 s targets since 1970.
        #expect(video.segments.first?.sequence == UInt64(Self.start / 2))
        // Paced to the clock: it never ran ahead of the media by more than a target duration.
        #expect(clock.now() >= origin + video.end!.seconds - 2)
        let playlist = try #require(window.documents["video_360p/playlist.m3u8"]).body
        #expect(String(buffer: playlist).contains("#EXT-X-PROGRAM-DATE-TIME:\(UTCTime.xsDateTime(Self.start))"))
        let mpd = try #require(window.mpd)
        #expect(mpd.head.contains("availabilityStartTime=\"\(UTCTime.xsDateTime(origin))\""))
        #expect(mpd.head.contains("publishTime=\"\(UTCTime.xsDateTime(try #require(window.lastPublication)))\""))
    }

    @Test func anInputBehindTheClockStartsANewEpoch() throws {
        let clock = ManualClock(Self.start)
        let jumped = JumpOnce()
        let window = try Self.run(clock, window: 300, during: { channel in
            // Once a few segments are out, the wall clock leaps a minute ahead of the input.
            let count = channel.window.withLock { $0.presentation.tracks["video_360p"]?.segments.count ?? 0 }
            if count >= 3, jumped.first() { clock.advance(by: 60) }
        }) { window in
            window.epochs.count >= 2 && (window.presentation.tracks["video_360p"]?.segments.last?.epoch == window.epochs.last?.id)
        }
        #expect(window.epochs.count == 2)
        let (first, second) = (window.epochs[0], window.epochs[1])
        // Re-anchored to the clock: the second epoch starts at least the leap after the first.
        #expect((second.start - first.start).seconds >= 60)
        let video = try #require(window.presentation.tracks["video_360p"])
        #expect(video.segments.filter(\.discontinuity).count == 1)
        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).components(separatedBy: "<Period ").count == 3)
        let playlist = String(buffer: try #require(window.documents["video_360p/playlist.m3u8"]).body)
        #expect(playlist.contains("#EXT-X-DISCONTINUITY\n"))
    }
}

extension ClockedChannelTests {
    /// With a 6 s window, playlists list the last 6 s (HLS a little more); segments stay a window and a target
    /// duration more (RFC 8216bis §6.2.2), then their bytes go too.
    @Test func theWindowSlidesAndOldSegmentsGo() throws {
        let clock = ManualClock(Self.start)
        let window = try Self.run(clock, window: 6) { ($0.presentation.tracks["video_360p"]?.nextSequence ?? 0) >= UInt64(Self.start / 2) + 20 }
        let video = try #require(window.presentation.tracks["video_360p"])
        let edge = try #require(video.end)
        // Kept: what ends within 2 windows and a target duration of the edge.
        #expect(video.segments.allSatisfy { edge - ($0.start + $0.duration) <= MediaTime(value: 14, timescale: 1) })
        #expect(video.segments.count <= 8)
        let stored = window.stored.keys.filter { $0.hasPrefix("video_360p/seg_") }
        #expect(Set(stored) == Set(video.segments.map(\.uri)))
        // Listed: the segments that end within the window back from the live edge (the last
        // one is the shorter segment the stop completed).
        let listing = window.listing(now: clock.now())
        let listed = window.presentation.listed(video, listing)
        let windowStart = window.liveEdge - MediaTime(value: 6, timescale: 1)
        #expect(listed.allSatisfy { $0.start + $0.duration > windowStart })
        let before = try #require(video.segments[..<listed.startIndex].last)
        #expect(before.start + before.duration <= windowStart)
        // HLS lists the window and half a target duration more, from the segment that starts
        // at or before then: 7 s or more here.
        let hls = window.presentation.hlsListed(video, listing)
        #expect(hls.startIndex <= listed.startIndex && hls.endIndex == listed.endIndex)
        let first = try #require(hls.first), last = try #require(hls.last)
        #expect(last.start + last.duration - first.start >= MediaTime(value: 7, timescale: 1))
        let playlist = String(buffer: try #require(window.documents["video_360p/playlist.m3u8"]).body)
        #expect(playlist.components(separatedBy: "#EXTINF:").count - 1 == hls.count)
        #expect(playlist.contains("#EXT-X-MEDIA-SEQUENCE:\(first.sequence)\n"))
        #expect(video.segments.first!.sequence > UInt64(Self.start / 2))
    }
}

extension ClockedChannelTests {
    /// A restarted channel keeps its timeline: the archive journal records channel time 0, and
    /// the restarted channel (a minute later on the clock) goes on from it instead of starting
    /// a new one at its own start.
    @Test func aRestartedChannelKeepsItsOrigin() throws {
        let archive = try Fixtures.temporaryDirectory("kerf-origin-archive").appendingPathComponent("news")
        defer { try? FileManager.default.removeItem(at: archive.deletingLastPathComponent()) }
        let first = try Self.run(ManualClock(Self.start), archive: archive.path) { ($0.presentation.tracks["video_360p"]?.segments.count ?? 0) >= 3 }
        #expect(first.origin == Self.start)
        let journal = try String(contentsOf: archive.appendingPathComponent("journal.jsonl"), encoding: .utf8)
        #expect(journal.hasPrefix("{\"origin\":\(Int(Self.start))}\n"))
        let end = first.liveEdge
        let clock = ManualClock(Self.start + 60)
        let second = try Self.run(clock, archive: archive.path) { $0.epochs.count >= 2 && ($0.presentation.tracks["video_360p"]?.segments.count ?? 0) >= 5 }
        #expect(second.origin == Self.start)
        let epoch = try #require(second.epochs.last)
        #expect(epoch.start >= end)
        // Where the restarted clock stood, on the first run's timeline.
        #expect(epoch.start == MediaTime(value: 60_000, timescale: 1000))
    }
}

/// True the first time only.
final class JumpOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func first() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
