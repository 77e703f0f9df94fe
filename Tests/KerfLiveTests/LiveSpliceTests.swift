import Foundation
import KerfCore
import KerfManifest
import KerfPackager
import KerfTestTags
import NIOCore
import Testing
@testable import KerfLive

/// Live splices at value level: requests become cut points, cuts become markers that start (and
/// end) exactly at segment starts, the window lists them until they slide out, the journal keeps them.
@Suite(.tags(.unit)) struct LiveSpliceTests {
    static func seconds(_ s: Double) -> MediaTime { MediaTime(seconds: s, timescale: 90_000) }
    static let slack = MediaTime(value: 1800, timescale: 90_000)

    @Test func anOutWithADurationStartsAndEndsAtTheBoundariesCut() throws {
        var splices = LiveSplices(firstEventID: 100)
        let accepted = try splices.request(.init(kind: .out, time: Self.seconds(11), duration: Self.seconds(6))).get()
        #expect(accepted.id == "splice-100")
        #expect(accepted.add == [Self.seconds(11), Self.seconds(17)])
        #expect(splices.points == [Self.seconds(11), Self.seconds(17)])
        // A regular cut before the splice announces nothing.
        #expect(splices.cut(at: Self.seconds(10), slack: Self.slack).isEmpty)
        // The out has no keyframe: the cut at 11.2 s starts the break there.
        let started = splices.cut(at: Self.seconds(11.2), slack: Self.slack)
        #expect(started.count == 1)
        let marker = try #require(started.first?.marker)
        #expect(marker.start == Self.seconds(11.2) && marker.signalledStart == Self.seconds(11) && marker.end == nil)
        #expect(started.first?.shift == Self.seconds(0.2))
        #expect(marker.plannedDuration == Self.seconds(6) && marker.eventID == 100)
        let out = try SpliceInfoSection.parse(marker.section)
        #expect(out.signal == .out && out.eventID == 100 && out.duration == 540_000)
        #expect(out.spliceTime == 1_008_000)
        #expect(splices.running.keys.sorted() == ["splice-100"])
        // The return at 17 s, cut exactly there: announced again with the same id and its end.
        let ended = splices.cut(at: Self.seconds(17), slack: Self.slack)
        #expect(ended.map(\.marker.id) == ["splice-100"] && ended.first?.isEnd == true)
        #expect(ended.first?.marker.end == Self.seconds(17) && ended.first?.marker.start == Self.seconds(11.2))
        let back = try SpliceInfoSection.parse(try #require(ended.first?.marker.returnSection))
        #expect(back.signal == .in && back.eventID == 100)
        #expect(splices.running.isEmpty && splices.points.isEmpty)
    }

    @Test func anInEndsTheRunningBreakEarlyAndDropsItsPlannedReturn() throws {
        var splices = LiveSplices(firstEventID: 1)
        _ = try splices.request(.init(kind: .out, id: "break-1", time: Self.seconds(4), duration: Self.seconds(30))).get()
        _ = splices.cut(at: Self.seconds(4), slack: Self.slack)
        let back = try splices.request(.init(kind: .in, time: Self.seconds(9))).get()
        #expect(back.id == "break-1" && back.remove == [Self.seconds(34)] && back.add == [Self.seconds(9)])
        let ended = splices.cut(at: Self.seconds(10), slack: Self.slack)
        #expect(ended.first?.marker.end == Self.seconds(10))
        // Nothing to end any more; ids in use are refused.
        #expect(throws: LiveError.self) { try splices.request(.init(kind: .in, time: Self.seconds(12))).get() }
        #expect(throws: LiveError.self) {
            try splices.request(.init(kind: .out, id: "taken", time: Self.seconds(12)), taken: ["taken"]).get()
        }
    }

    @Test func aReturnCutWithItsOutEndsAtTheNextBoundary() throws {
        var splices = LiveSplices(firstEventID: 7)
        _ = try splices.request(.init(kind: .out, time: Self.seconds(4.1), duration: Self.seconds(0.5))).get()
        // One keyframe at 6 s takes both: the break starts there and ends at the next cut.
        let first = splices.cut(at: Self.seconds(6), slack: Self.slack)
        #expect(first.count == 1 && first.first?.isEnd == false)
        let second = splices.cut(at: Self.seconds(8), slack: Self.slack)
        #expect(second.first?.marker.end == Self.seconds(8))
    }

    @Test func aRepeatedSignalIsTheSameSplice() throws {
        var splices = LiveSplices(firstEventID: 1)
        let first = try splices.request(.init(kind: .out, eventID: 42, time: Self.seconds(20), duration: Self.seconds(10), section: [1])).get()
        let again = try splices.request(.init(kind: .out, eventID: 42, time: Self.seconds(20), duration: Self.seconds(10), section: [1])).get()
        #expect(again == LiveSplices.Accepted(id: first.id))
        _ = splices.cut(at: Self.seconds(20), slack: Self.slack)
        #expect(try splices.request(.init(kind: .out, eventID: 42, time: Self.seconds(20), section: [1])).get().add.isEmpty)
        #expect(splices.points == [Self.seconds(30)])
    }

    /// A restarted channel's window lists a break without its end: it still returns as planned.
    @Test func aRestoredRunningBreakReturnsAsPlanned() throws {
        let open = SpliceMarker(id: "break-9", eventID: 9, start: Self.seconds(10), signalledStart: Self.seconds(9.5),
                                plannedDuration: Self.seconds(20), section: [1])
        let ended = SpliceMarker(id: "old", eventID: 8, start: Self.seconds(2), end: Self.seconds(4), section: [2])
        var splices = LiveSplices(firstEventID: 1, open: [open, ended])
        #expect(splices.running.keys.sorted() == ["break-9"] && splices.points == [Self.seconds(29.5)])
        let back = splices.cut(at: Self.seconds(30), slack: Self.slack)
        #expect(back.first?.marker.id == "break-9" && back.first?.marker.end == Self.seconds(30) && back.first?.isEnd == true)
    }

    @Test func aCancelForgetsASpliceNotCutYet() throws {
        var splices = LiveSplices(firstEventID: 1)
        _ = try splices.request(.init(kind: .out, eventID: 42, time: Self.seconds(20), duration: Self.seconds(10), section: [1, 2])).get()
        let cancelled = try splices.request(.init(kind: .cancel, eventID: 42, time: Self.seconds(15))).get()
        #expect(cancelled.remove == [Self.seconds(20), Self.seconds(30)])
        #expect(splices.points.isEmpty)
        #expect(splices.cut(at: Self.seconds(20), slack: Self.slack).isEmpty)
    }

    /// The window lists a marker from the segment that starts at it: EXT-X-DATERANGE with
    /// START-DATE equal to that segment's PROGRAM-DATE-TIME, the DASH Event at the same time;
    /// the journal gives a restarted window the same documents; the marker leaves once every
    /// segment it covers has slid out.
    @Test func theWindowListsJournalsAndForgetsMarkers() throws {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.width = 320
        info.height = 180
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video_180p", name: "video", language: nil)
        func makeWindow() -> LiveWindow {
            LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 6, timescale: 1),
                       origin: 1_800_000_000)
        }
        var window = makeWindow()
        var splices = LiveSplices(firstEventID: 9)
        let now = 1_800_000_000.0
        let epoch = window.beginEpoch(tracks: [track], start: .zero(timescale: 1000), now: now)
        window.addInit(folder: "video_180p", epoch: epoch.id, bytes: [0], timescale: 90_000)
        _ = try splices.request(.init(kind: .out, time: Self.seconds(3.9), duration: Self.seconds(4))).get()
        var journal: [LiveArchive.Record] = []
        func add(_ index: Int) {
            let start = Self.seconds(Double(index) * 2)
            for announcement in splices.cut(at: start, slack: Self.slack) {
                window.receive(.splice(announcement.marker))
                journal.append(.splice(announcement.marker))
            }
            let segment = LivePackager.Segment(track: 0, start: start, duration: Self.seconds(2), bytes: [1])
            window.addSegment(folder: "video_180p", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: [1]), etag: "\"\(index)\"")
            window.publish(now: now + Double(index) * 2 + 2)
        }
        for index in 0..<5 { add(index) }
        let playlist = String(buffer: try #require(window.documents["video_180p/playlist.m3u8"]?.body))
        let lines = playlist.split(separator: "\n").map(String.init)
        let range = try #require(lines.firstIndex { $0.hasPrefix("#EXT-X-DATERANGE:ID=\"splice-9\"") && $0.contains("SCTE35-OUT=") })
        let date = try #require(lines[range].firstMatch(of: /START-DATE="([^"]+)"/)?.1)
        // The DATERANGE goes with the segment at 4 s (after its PROGRAM-DATE-TIME, before its URI).
        let pdt = try #require(lines[..<range].last { $0.hasPrefix("#EXT-X-PROGRAM-DATE-TIME:") })
        #expect(pdt == "#EXT-X-PROGRAM-DATE-TIME:\(date)")
        #expect(lines[range...].first { $0.hasPrefix("seg_") } == "seg_360000.m4s")
        #expect(lines.contains { $0.hasPrefix("#EXT-X-DATERANGE:ID=\"splice-9\"") && $0.contains("SCTE35-IN=") })
        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).contains("<Event presentationTime=\"360000\" duration=\"360000\" id=\"9\""))

        // A restarted window: the journal (compacted) replays to the same playlist.
        var copy = makeWindow()
        for record in window.records() { copy.replay(record, initBytes: [0]) }
        _ = copy.finishReplay(now: now + 10)
        #expect(copy.presentation.markers == window.presentation.markers)
        #expect(copy.documents["video_180p/playlist.m3u8"]?.body == window.documents["video_180p/playlist.m3u8"]?.body)
        // Lines appended one by one read back alike.
        let encoded = try journal.map { try JSONEncoder().encode($0) }
        let decoded = try encoded.map { try JSONDecoder().decode(LiveArchive.Record.self, from: $0) }
        #expect(decoded.count == 2)
        if case .splice(let marker) = decoded.last { #expect(marker.end == Self.seconds(8)) } else { Issue.record("not a splice record") }

        // The break covers 4–8 s: listed while a segment of it is, gone once both slid out.
        add(5)
        #expect(window.presentation.markers.count == 1)
        add(6)
        #expect(window.presentation.markers.isEmpty)
        // With ad-periods, the Period of the segments after the break still starts at its end
        // (named 8000) and keeps that after a restart from the compacted journal.
        window.adPeriods = true
        window.publish(now: now + 16)
        let split = try #require(window.mpd)
        #expect((split.head + split.tail).contains(#"<Period id="8000" start="PT8S">"#), "\(split.head)")
        var restarted = makeWindow()
        restarted.adPeriods = true
        for record in window.records() {
            restarted.replay(try JSONDecoder().decode(LiveArchive.Record.self, from: try JSONEncoder().encode(record)), initBytes: [0])
        }
        _ = restarted.finishReplay(now: now + 16)
        #expect(restarted.presentation.forgottenSplit == Self.seconds(8))
        let replayed = try #require(restarted.mpd)
        #expect((replayed.head + replayed.tail).contains(#"<Period id="8000" start="PT8S">"#), "\(replayed.head)")
    }

    /// LL-HLS: a break is listed with the first part of the segment it starts (before the parts
    /// of the segment being written), not only once that segment is complete.
    @Test func aBreakIsListedWithItsFirstPart() throws {
        let made = LowLatencyTestWindow.make(window: 12, origin: 1_800_000_000)
        var window = made.window
        let epoch = made.epoch
        for index in 0..<2 {
            let segment = LivePackager.Segment(track: 0, start: Self.seconds(Double(index) * 2), duration: Self.seconds(2), bytes: [1])
            window.addSegment(folder: "video", epoch: epoch, segment: segment, body: ByteBuffer(bytes: [1]), etag: "\"\(index)\"")
        }
        var splices = LiveSplices(firstEventID: 5)
        _ = try splices.request(.init(kind: .out, time: Self.seconds(4), duration: Self.seconds(30))).get()
        for announcement in splices.cut(at: Self.seconds(4), slack: Self.slack) { window.receive(.splice(announcement.marker)) }
        window.publish(now: 1_800_000_004)
        // No part of the segment at 4 s yet: nothing listed.
        #expect(!String(buffer: try #require(window.documents["video/playlist.m3u8"]?.body)).contains("DATERANGE"))
        window.receive(.partCompleted(rendition: "video", PartEntry(uri: "video/part_360000_0.m4s", segmentStart: Self.seconds(4), index: 0,
                                                                    duration: Self.seconds(0.5), independent: true, epoch: epoch)),
                       body: ByteBuffer(bytes: [2]), etag: "\"p\"")
        window.publish(now: 1_800_000_004.5, partsOnly: true)
        let lines = String(buffer: try #require(window.documents["video/playlist.m3u8"]?.body)).split(separator: "\n").map(String.init)
        let range = try #require(lines.firstIndex { $0.hasPrefix("#EXT-X-DATERANGE:ID=\"splice-5\"") })
        #expect(lines[range].contains("START-DATE=\"2027-01-15T08:00:04.000Z\"") && lines[range].contains("SCTE35-OUT=0x"))
        #expect(lines[range - 1] == "seg_180000.m4s")
        #expect(lines[range + 1] == "#EXT-X-PART:DURATION=0.500,URI=\"part_360000_0.m4s\",INDEPENDENT=YES")
    }

    /// A delta update (`_HLS_skip=YES`) skips old segments but not their EXT-X-DATERANGE tags
    /// (the server does not claim CAN-SKIP-DATERANGES).
    @Test func deltaUpdatesKeepSkippedBreaks() throws {
        let made = LowLatencyTestWindow.make(window: 40, origin: 1_800_000_000)
        var window = made.window
        let epoch = made.epoch
        var splices = LiveSplices(firstEventID: 3)
        _ = try splices.request(.init(kind: .out, time: Self.seconds(2), duration: Self.seconds(2))).get()
        for index in 0..<12 {
            for announcement in splices.cut(at: Self.seconds(Double(index) * 2), slack: Self.slack) { window.receive(.splice(announcement.marker)) }
            let segment = LivePackager.Segment(track: 0, start: Self.seconds(Double(index) * 2), duration: Self.seconds(2), bytes: [1])
            window.addSegment(folder: "video", epoch: epoch, segment: segment, body: ByteBuffer(bytes: [1]), etag: "\"\(index)\"")
        }
        window.publish(now: 1_800_000_024)
        let full = String(buffer: try #require(window.documents["video/playlist.m3u8"]?.body))
        let delta = String(buffer: try #require(window.documents["video/playlist.m3u8?skip"]?.body))
        #expect(delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=") && !delta.contains("seg_180000.m4s"))
        let ranges = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-DATERANGE:") } }
        #expect(ranges(full).count == 2 && ranges(delta) == ranges(full))
    }
}
