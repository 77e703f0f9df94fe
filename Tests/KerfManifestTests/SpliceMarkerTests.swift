import KerfCore
import Testing
@testable import KerfManifest
import KerfTestTags

/// Splice markers in the shared manifest model: what a package and a live window list.
@Suite(.tags(.unit)) struct SpliceMarkerTests {
    static let starts: [Int64] = [0, 4, 8, 11, 12, 16, 17, 20]
    static let section = SpliceInfoSection(command: .insert(SpliceInsert(eventID: 9, spliceTime: 990_000,
                                                                          breakDuration: BreakDuration(autoReturn: true, duration: 540_000)))).encoded()

    static func presentation(marker: SpliceMarker? = nil) -> Presentation {
        var p = Presentation()
        let info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        p.apply(.started(RenditionDescription(id: "v", kind: .video, info: info, name: "v", language: nil, timescale: 90_000,
                                              mediaTemplate: "v/seg_$Number$.m4s")))
        p.apply(.initialization(rendition: "v", epoch: 0, InitializationEntry(uri: "v/init.mp4")))
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : 24
            p.apply(.segmentCompleted(rendition: "v", SegmentEntry(uri: "v/seg_\(index + 1).m4s", sequence: UInt64(index),
                                                                   start: MediaTime(value: start, timescale: 1),
                                                                   duration: MediaTime(value: end - start, timescale: 1), size: 1000)))
        }
        if let marker { p.apply(.splice(marker)) }
        return p
    }

    static let marker = SpliceMarker(id: "ad", eventID: 9, start: MediaTime(value: 11, timescale: 1),
                                     plannedDuration: MediaTime(value: 6, timescale: 1), end: MediaTime(value: 17, timescale: 1),
                                     section: section)

    @Test func packagePlaylistDatesEverySegmentAndMarksTheBreak() throws {
        var listing = Presentation.Listing(segmentDuration: MediaTime(value: 4, timescale: 1))
        listing.programDateTime = 1_767_225_600  // 2026-01-01T00:00:00Z
        listing.adMarkers = [.dateRange, .cue]
        let text = HLSWriter.write(try #require(Self.presentation(marker: Self.marker).mediaPlaylist("v", listing)))
        #expect(text.components(separatedBy: "#EXT-X-PROGRAM-DATE-TIME:").count - 1 == Self.starts.count)
        #expect(text.contains("""
            #EXT-X-CUE-OUT:6.000
            #EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:11.000Z
            #EXT-X-DATERANGE:ID="ad",START-DATE="2026-01-01T00:00:11.000Z",DURATION=6.000,PLANNED-DURATION=6.000,SCTE35-OUT=\(HLSDateRange.hex(Self.section))
            #EXTINF:1.000,
            seg_4.m4s
            #EXT-X-CUE-OUT-CONT:ElapsedTime=1.000,Duration=6.000
            """))
        #expect(text.contains("#EXT-X-CUE-IN\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:17.000Z\n#EXTINF:3.000,\nseg_7.m4s"))
        // Without markers: no dates, as before.
        #expect(!HLSWriter.write(try #require(Self.presentation().mediaPlaylist("v", listing))).contains("PROGRAM-DATE-TIME"))
    }

    @Test func liveWindowAnnouncesARunningBreakOnItsFirstSegment() throws {
        let listing = Presentation.Listing(segmentDuration: MediaTime(value: 4, timescale: 1),
                                           live: .init(window: MediaTime(value: 9, timescale: 1), targetDuration: 4, availabilityStart: 1000))
        // The window starts at 12 s (inside the break that began at 11 s).
        let text = HLSWriter.write(try #require(Self.presentation(marker: Self.marker).mediaPlaylist("v", listing)))
        let lines = text.split(separator: "\n")
        let first = try #require(lines.firstIndex { $0.hasPrefix("#EXTINF") })
        #expect(lines[..<first].contains { $0.hasPrefix("#EXT-X-DATERANGE:ID=\"ad\",START-DATE=\"1970-01-01T00:16:51.000Z\"") })
        #expect(text.components(separatedBy: "#EXT-X-DATERANGE").count - 1 == 1)
    }

    @Test func mpdListsTheSpliceAndSplitsPeriods() throws {
        var listing = Presentation.Listing(segmentDuration: MediaTime(value: 4, timescale: 1))
        let presentation = Self.presentation(marker: Self.marker)
        let one = try #require(presentation.mpd(listing))
        #expect(one.periods.count == 1)
        #expect(one.periods[0].eventStreams == [EventStream(schemeIdUri: EventStream.scte35Scheme, timescale: 90_000, events: [
            .init(presentationTime: 990_000, duration: 540_000, id: 9, scte35Binary: Base64.encode(Self.section)),
        ])])
        listing.cuePeriods = true
        let split = try #require(presentation.mpd(listing))
        #expect(split.periods.map(\.start) == [0, 11, 17].map { MediaTime(value: $0, timescale: 1) })
        let templates = split.periods.map { $0.adaptationSets[0].representations[0].segmentTemplate! }
        #expect(templates.map(\.startNumber) == [1, 4, 7])
        #expect(templates.map(\.presentationTimeOffset) == [nil, 990_000, 1_530_000])
        #expect(split.periods[1].eventStreams.first?.events.first?.presentationTime == 0)
        #expect(split.periods[0].eventStreams.isEmpty && split.periods[2].eventStreams.isEmpty)
        let xml = String(decoding: try MPDWriter.write(split), as: UTF8.self)
        #expect(xml.contains("xmlns:scte35=\"http://www.scte.org/schemas/35/2016\""))
        #expect(xml.contains("<scte35:Binary>\(Base64.encode(Self.section))</scte35:Binary>"))
    }

    /// `ad-periods` on a live window: a Period at the break's start and end inside the epoch,
    /// named by their start (ms), each timeline from its own start; once the break has slid
    /// out, the Period of the segments after it keeps its start and id.
    @Test func liveMPDSplitsPeriodsAtBreaksAndKeepsTheirNames() throws {
        var presentation = Presentation()
        let info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        presentation.apply(.started(RenditionDescription(id: "v", kind: .video, info: info, name: "v", language: nil, timescale: 90_000,
                                                         mediaTemplate: "v/seg_$Time$.m4s", templateByTime: true)))
        presentation.apply(.epochStarted(id: 0, start: .zero(timescale: 1), renditions: ["v"]))
        presentation.apply(.initialization(rendition: "v", epoch: 0, InitializationEntry(uri: "v/init_0.mp4")))
        let starts = Self.starts + [24, 28, 32]
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : 36
            presentation.apply(.segmentCompleted(rendition: "v", SegmentEntry(uri: "v/seg_\(start * 90_000).m4s", sequence: UInt64(index),
                                                                              start: MediaTime(value: start, timescale: 1),
                                                                              duration: MediaTime(value: end - start, timescale: 1), size: 1000)))
        }
        presentation.apply(.splice(Self.marker))
        var live = Presentation.Listing.Live(window: MediaTime(value: 60, timescale: 1), targetDuration: 4, availabilityStart: 1000)
        live.timelineFromPeriodStart = true
        var listing = Presentation.Listing(segmentDuration: MediaTime(value: 4, timescale: 1), live: live)
        #expect(try #require(presentation.mpd(listing)).periods.map(\.id) == ["0"])
        listing.cuePeriods = true
        let split = try #require(presentation.mpd(listing))
        #expect(split.periods.map(\.id) == ["0", "11000", "17000"])
        #expect(split.periods.map(\.start) == [0, 11, 17].map { MediaTime(value: $0, timescale: 1) })
        let templates = split.periods.map { $0.adaptationSets[0].representations[0].segmentTemplate! }
        #expect(templates.map(\.presentationTimeOffset) == [nil, 990_000, 1_530_000])
        #expect(templates.map { $0.timeline.first?.t } == [0, 990_000, 1_530_000])
        #expect(templates.map { $0.timeline.reduce(0) { $0 + $1.r + 1 } } == [3, 3, 5])
        #expect(split.periods.map { $0.eventStreams.count } == [0, 1, 0])

        // The window slides past the break: segments up to 17 s and the marker are gone.
        _ = presentation.removeSegments(of: "v", endingBefore: MediaTime(value: 18, timescale: 1))
        presentation.removeMarkers(endingBefore: MediaTime(value: 18, timescale: 1))
        #expect(presentation.markers.isEmpty)
        let later = try #require(presentation.mpd(listing))
        #expect(later.periods.map(\.id) == ["17000"] && later.periods.map(\.start) == [MediaTime(value: 17, timescale: 1)])
        let template = try #require(later.periods.first?.adaptationSets.first?.representations.first?.segmentTemplate)
        #expect(template.presentationTimeOffset == 1_530_000 && template.timeline.first?.t == 1_530_000)

        // LL-DASH: the availabilityTimeOffset is the target less a part, lowered by a listed
        // segment shorter than the target (the 3 s one from 17 s): none is announced early.
        listing.live?.partTarget = MediaTime(value: 1, timescale: 2)
        let offsets = try #require(presentation.mpd(listing)).periods.compactMap {
            $0.adaptationSets.first?.representations.first?.segmentTemplate?.availabilityTimeOffset
        }
        #expect(offsets == [2.5])
        _ = presentation.removeSegments(of: "v", endingBefore: MediaTime(value: 21, timescale: 1))
        #expect(try #require(presentation.mpd(listing)).periods.compactMap {
            $0.adaptationSets.first?.representations.first?.segmentTemplate?.availabilityTimeOffset
        } == [3.5])
    }

    @Test func aWindowForgetsBreaksThatEndedBeforeIt() {
        var presentation = Self.presentation(marker: Self.marker)
        var open = Self.marker
        open.id = "open"
        open.end = nil
        presentation.apply(.splice(open))
        presentation.removeMarkers(endingBefore: MediaTime(value: 16, timescale: 1))
        #expect(presentation.markers.map(\.id) == ["ad", "open"])
        presentation.removeMarkers(endingBefore: MediaTime(value: 17, timescale: 1))
        #expect(presentation.markers.map(\.id) == ["open"])
        // Announced again with its end: replaced, not added.
        open.end = MediaTime(value: 20, timescale: 1)
        presentation.apply(.splice(open))
        #expect(presentation.markers.count == 1 && presentation.markers[0].end == MediaTime(value: 20, timescale: 1))
    }
}
