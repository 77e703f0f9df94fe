import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import NIOCore
import Logging
import Testing
@testable import KerfLive

/// SCTE-35 in file inputs on a `ManualClock` (the channel runs as fast as it can package): a
/// looped file repeats its splice on every pass, shifted by the loop like the media, each cut
/// exactly at its keyframe; through a ladder, a keyframe is coded at the splice. The input is an MPEG-TS made by ffmpeg with a splice_insert put in by superkabuki.
@Suite(.tags(.integration)) struct LiveSpliceLoopTests {
    @Test func aLoopedFileRepeatsItsSplices() throws {
        let missing = SCTE35Tools.missing
        try #require(missing.isEmpty, "SCTE-35 oracles missing (make test-deps): \(missing.joined(separator: ", "))")
        let directory = try Fixtures.temporaryDirectory("kerf-live-scte35-loop")
        defer { try? FileManager.default.removeItem(at: directory) }
        // 8 s, keyframes every second; a 2 s break at 3 s (off the 2 s grid).
        let spliced = try SCTE35Tools.splicedTransportStream(in: directory, keyframes: (0..<8).map(Double.init), seconds: 8, eventID: 77,
                                                             out: 3, duration: 2, signalledAt: 1)

        var configuration = ChannelConfiguration(input: spliced, segmentDuration: 2, window: 60)
        configuration.dashEvents = [.inband]
        let window = try ClockedChannelTests.run(configuration, ManualClock(1_800_000_000), seconds: 30) { window in
            window.presentation.markers.filter { $0.end != nil }.count >= 2
        }
        let markers = window.presentation.markers
        try #require(markers.count >= 2, "\(markers)")
        let epoch = try #require(window.epochs.first).start
        let segments = try #require(window.presentation.tracks["video_180p"]).segments.map(\.start)
        #expect(markers[0].id == "splice-77" && markers[1].id == "splice-77-2")
        for marker in markers.prefix(2) {
            // Cut where asked (a keyframe there), listed where a segment starts, 2 s long.
            #expect(marker.start == marker.signalledStart && marker.eventID == 77)
            let end = try #require(marker.end)
            #expect(segments.contains(marker.start) && segments.contains(end))
            #expect(marker.duration == MediaTime(value: 2, timescale: 1))
            #expect(marker.section == markers[0].section)
        }
        #expect(markers[0].start == epoch + MediaTime(value: 3, timescale: 1))
        // The second pass: one loop later (about 8 s, the file's length).
        #expect(abs((markers[1].start - markers[0].start).seconds - 8) < 0.1, "\(markers.map(\.start.seconds))")
        // dash-events: inband: each pass's splice is an emsg of the segment cut for it, and the
        // MPD declares the scheme instead of listing an EventStream.
        var ids: Set<Int> = []
        for marker in markers.prefix(2) {
            let messages = try Self.eventMessages(window, folder: "video_180p", startingAt: marker.start)
            #expect(messages.map(\.scheme) == ["urn:scte:scte35:2013:bin"], "\(messages)")
            #expect(abs((messages.first?.seconds ?? 0) - marker.start.seconds) < 0.0001 && messages.first?.duration == 2)
            #expect(messages.first?.data == marker.section)
            if let id = messages.first?.id { ids.insert(id) }
        }
        // Each pass's emsg has an id of its own (the event id repeats; a client would take one for the other).
        #expect(ids.count == 2)
        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).contains("<InbandEventStream schemeIdUri=\"urn:scte:scte35:2013:bin\"/>"))
        #expect(!(mpd.head + mpd.tail).contains("<EventStream"))
    }

    /// The emsg boxes of the stored segment of `folder` that starts at `start`.
    static func eventMessages(_ window: LiveWindow, folder: String, startingAt start: MediaTime) throws -> [EventMessageBox] {
        let segment = try #require(window.presentation.tracks[folder]?.segments.first { $0.start == start }, "no segment at \(start.seconds)")
        let body = try #require(window.stored[segment.uri]?.body, "\(segment.uri) is not stored")
        return EventMessageBox.read(Array(body.readableBytesView))
    }

    /// Through a ladder: the SCTE-35 passes the transcoder, whose encoders code a keyframe at the
    /// splice although the source has none there, so the break starts on the picture asked.
    @Test func aTranscodedChannelCutsAtTheSignalledPicture() throws {
        let missing = SCTE35Tools.missing
        try #require(missing.isEmpty, "SCTE-35 oracles missing (make test-deps): \(missing.joined(separator: ", "))")
        let directory = try Fixtures.temporaryDirectory("kerf-live-scte35-ladder")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Source keyframes every 4 s only; a 2 s break at 5 s.
        let spliced = try SCTE35Tools.splicedTransportStream(in: directory, keyframes: [0, 4, 8], seconds: 10, eventID: 78,
                                                             out: 5, duration: 2, signalledAt: 0.5)
        var configuration = ChannelConfiguration(input: spliced, segmentDuration: 2, window: 60)
        configuration.ladder = try .parse("180p:150k")
        configuration.dashEvents = [.period, .inband]
        let window = try ClockedChannelTests.run(configuration, ManualClock(1_800_000_000), seconds: 30) { window in
            window.presentation.markers.first?.end != nil
        }
        let marker = try #require(window.presentation.markers.first)
        let epoch = try #require(window.epochs.first).start
        // The first picture at or after 5 s (25 fps): within a frame, not at a grid keyframe (6 s).
        let shift = (marker.start - epoch - MediaTime(value: 5, timescale: 1)).seconds
        #expect(shift >= 0 && shift < 0.04, "the break starts at \((marker.start - epoch).seconds) s")
        let end = try #require(marker.end)
        #expect(abs((end - marker.signalledStart).seconds - 2) < 0.04, "the break ends at \((end - epoch).seconds) s")
        #expect(try #require(window.presentation.tracks["video_180p"]).segments.contains { $0.start == marker.start })
        // The emsg is timed at the picture the break starts on.
        let messages = try Self.eventMessages(window, folder: "video_180p", startingAt: marker.start)
        #expect(messages.count == 1 && abs((messages.first?.seconds ?? 0) - marker.start.seconds) < 0.0001)
        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).contains("<InbandEventStream schemeIdUri=\"urn:scte:scte35:2013:bin\"/>"))
        #expect((mpd.head + mpd.tail).contains("<EventStream schemeIdUri=\"urn:scte:scte35:2014:xml+bin\""))
    }

    /// The operator's splice on a ladder channel looping a 6 s file, asked for a time in its
    /// third pass: each pass's new transcoder is told, and the break starts on the picture asked.
    @Test func anOperatorSpliceOnALadderChannelCutsOnThePictureAsked() throws {
        var configuration = ChannelConfiguration(input: Fixtures.path("mpeg2_mp2.ts"), segmentDuration: 2, window: 60)
        configuration.ladder = try .parse("180p:150k")
        let clock = ManualClock(1_800_000_000)
        let channel = try LiveChannel(name: "ladder", configuration: configuration, metrics: .unregistered(name: "ladder"),
                                      logger: Logger(label: "test"), clock: clock)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            channel.run()
            finished.signal()
        }
        defer {
            channel.stop()
            finished.wait()
        }
        let deadline = Date().addingTimeInterval(30)
        while channel.window.withLock({ $0.epochs.isEmpty }), Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        let epoch = try #require(channel.window.withLock { $0.epochs.first }).start
        // 13.3 s into the channel: off the 2 s grid, in the third pass of the file.
        let asked = epoch + MediaTime(value: 133, timescale: 10)
        let (id, time, _) = try channel.splice(.init(duration: MediaTime(value: 2, timescale: 1), time: .channel(asked)))
        #expect(time == asked)
        while channel.window.withLock({ $0.presentation.markers.first?.end == nil }), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let marker = try #require(channel.window.withLock { $0.presentation.markers.first })
        #expect(marker.id == id && marker.signalledStart == asked)
        let shift = (marker.start - asked).seconds
        #expect(shift >= 0 && shift < 0.04, "the break starts at \((marker.start - epoch).seconds) s")
    }
}
