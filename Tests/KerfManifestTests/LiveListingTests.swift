import KerfCore
import Testing
@testable import KerfManifest
import KerfTestTags

/// What a live window lists when its renditions' segments end at different times.
@Suite(.tags(.unit)) struct LiveListingTests {
    /// Video segments of 2 s to 12 s; audio segments of 2.08 s to 14.56 s (one ahead, and ending
    /// later): the live edge is the audio's.
    static func presentation() -> Presentation {
        var p = Presentation()
        let video = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        let audio = TrackInfo(index: 1, mediaType: .audio, codec: "aac", timeBase: Rational(1, 48_000))
        p.apply(.started(RenditionDescription(id: "v", kind: .video, info: video, name: "v", language: nil, timescale: 90_000,
                                              mediaTemplate: "v/seg_$Number$.m4s")))
        p.apply(.started(RenditionDescription(id: "a", kind: .audio, info: audio, name: "a", language: nil, timescale: 48_000,
                                              mediaTemplate: "a/seg_$Number$.m4s")))
        for id in ["v", "a"] { p.apply(.initialization(rendition: id, epoch: 0, InitializationEntry(uri: "\(id)/init.mp4"))) }
        for index in 0..<6 {
            p.apply(.segmentCompleted(rendition: "v", SegmentEntry(uri: "v/seg_\(index + 1).m4s", sequence: UInt64(index),
                                                                   start: MediaTime(value: Int64(index) * 180_000, timescale: 90_000),
                                                                   duration: MediaTime(value: 180_000, timescale: 90_000), size: 1000)))
        }
        for index in 0..<7 {
            p.apply(.segmentCompleted(rendition: "a", SegmentEntry(uri: "a/seg_\(index + 1).m4s", sequence: UInt64(index),
                                                                   start: MediaTime(value: Int64(index) * 99_840, timescale: 48_000),
                                                                   duration: MediaTime(value: 99_840, timescale: 48_000), size: 100)))
        }
        return p
    }

    static let listing = Presentation.Listing(segmentDuration: MediaTime(value: 2, timescale: 1),
                                              live: .init(window: MediaTime(value: 6, timescale: 1), targetDuration: 2))

    /// Measured from the live edge (14.56 s), the window holds only two of the video's segments,
    /// 4 s: under the three target durations RFC 8216 §6.2.2 requires. HLS measures it from
    /// the rendition behind (here capped at a target duration behind the edge: 12.56 s), with
    /// half a target more (from 5.56 s): the video lists its segments from 4 s, the audio from
    /// its segment nearest to that (4.16 s).
    @Test func aRenditionBehindTheEdgeStillListsTheWindow() throws {
        let presentation = Self.presentation()
        // What DASH lists keeps to the window from the edge (its timeShiftBufferDepth).
        let video = try #require(presentation.tracks["v"])
        #expect(presentation.listed(video, Self.listing).map(\.uri) == ["v/seg_5.m4s", "v/seg_6.m4s"])
        let playlist = try #require(presentation.mediaPlaylist("v", Self.listing))
        #expect(playlist.segments.map(\.uri) == ["seg_3.m4s", "seg_4.m4s", "seg_5.m4s", "seg_6.m4s"])
        #expect(playlist.mediaSequence == 2)
        let audio = try #require(presentation.mediaPlaylist("a", Self.listing))
        #expect(audio.segments.map(\.uri) == ["seg_3.m4s", "seg_4.m4s", "seg_5.m4s", "seg_6.m4s", "seg_7.m4s"])
        #expect(audio.mediaSequence == 2)
    }

    /// Audio a fraction of a segment ahead of video, its boundaries drifting from the video's
    /// (6.24 s against 6 s, 8.32 s against 8 s): both start at the same slot, however the
    /// window's start falls between their boundaries.
    @Test func renditionsStartTheirListingsTogether() throws {
        var presentation = Self.presentation()
        presentation.apply(.segmentCompleted(rendition: "v", SegmentEntry(uri: "v/seg_7.m4s", sequence: 6,
                                                                          start: MediaTime(value: 1_080_000, timescale: 90_000),
                                                                          duration: MediaTime(value: 180_000, timescale: 90_000), size: 1000)))
        for window: Int64 in [5, 6, 7] {
            var listing = Self.listing
            listing.live?.window = MediaTime(value: window, timescale: 1)
            let video = try #require(presentation.mediaPlaylist("v", listing))
            let audio = try #require(presentation.mediaPlaylist("a", listing))
            #expect(video.mediaSequence == audio.mediaSequence, "window \(window)")
            #expect(video.segments.first?.uri == audio.segments.first?.uri, "window \(window)")
            #expect(video.segments.count >= 3 && audio.segments.count >= 3, "window \(window)")
        }
    }

    /// A channel younger than three target durations lists what it has.
    @Test func aYoungChannelListsWhatItHas() throws {
        var presentation = Presentation()
        let video = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        presentation.apply(.started(RenditionDescription(id: "v", kind: .video, info: video, name: "v", language: nil, timescale: 90_000,
                                                         mediaTemplate: "v/seg_$Number$.m4s")))
        presentation.apply(.segmentCompleted(rendition: "v", SegmentEntry(uri: "v/seg_1.m4s", sequence: 0, start: MediaTime(value: 0, timescale: 90_000),
                                                                          duration: MediaTime(value: 180_000, timescale: 90_000), size: 1000)))
        #expect(try #require(presentation.mediaPlaylist("v", Self.listing)).segments.map(\.uri) == ["seg_1.m4s"])
    }
}
