import Foundation
import KerfCore
import KerfManifest
import KerfPackager
import KerfTestTags
import NIOCore
import Testing
@testable import KerfLive

/// A live window with a text rendition (WebVTT segments timed like the video's) and closed
/// captions found while ingesting.
@Suite(.tags(.unit)) struct LiveTextWindowTests {
    static func tracks() -> [LivePackager.Track] {
        var video = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        video.codecString = "avc1.42c00c"
        video.width = 320
        video.height = 180
        let text = TrackInfo(index: 1, mediaType: .subtitle, codec: "mov_text", timeBase: Rational(1, 1000))
        return [LivePackager.Track(number: 0, info: video, kind: .video, folder: "video_180p", name: "video", language: nil),
                LivePackager.Track(number: 1, info: text, kind: .text, folder: "text_eng", name: "English", language: "eng", isDefault: true)]
    }

    /// Fills a window with one epoch of `count` 2 s segments in both renditions.
    static func filled(count: Int) -> LiveWindow {
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 30, timescale: 1))
        let now = 1_000_000.0
        let start = window.nextEpochStart(now: now)
        let epoch = window.beginEpoch(tracks: tracks(), start: start, now: now)
        window.addInit(folder: "video_180p", epoch: epoch.id, bytes: [1, 2, 3], timescale: 90_000)
        for index in 0..<count {
            let time = start.rescaled(to: 90_000) + MediaTime(value: Int64(index) * 180_000, timescale: 90_000)
            for (track, folder) in [(0, "video_180p"), (1, "text_eng")] {
                let bytes: [UInt8] = track == 0 ? [UInt8](repeating: 7, count: 1000) : Array("WEBVTT\n\n".utf8)
                let segment = LivePackager.Segment(track: track, start: time, duration: MediaTime(value: 180_000, timescale: 90_000), bytes: bytes)
                window.addSegment(folder: folder, epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: bytes), etag: LiveWindow.etag(bytes))
            }
        }
        window.publish(now: now + Double(2 * count))
        return window
    }

    static func document(_ window: LiveWindow, _ path: String) -> String {
        window.documents[path].map { String(buffer: $0.body) } ?? ""
    }

    @Test func textSegmentsAreListedNamedAndReplayedLikeTheVideos() throws {
        let window = Self.filled(count: 3)
        let video = Self.document(window, "video_180p/playlist.m3u8"), text = Self.document(window, "text_eng/playlist.m3u8")
        let names = { (playlist: String) in playlist.split(separator: "\n").filter { $0.hasPrefix("seg_") }.map { $0.split(separator: ".")[0] } }
        #expect(names(text).count == 3 && names(text) == names(video), "\(text)")
        #expect(text.contains("seg_") && text.contains(".vtt") && !text.contains("EXT-X-MAP"), "\(text)")
        #expect(window.stored.keys.filter { $0.hasSuffix(".vtt") }.count == 3)
        #expect(window.isText("text_eng") && !window.isText("video_180p"))
        let master = Self.document(window, "master.m3u8")
        #expect(master.contains(#"TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES"#), "\(master)")
        #expect(master.contains(#"SUBTITLES="subs""#), "\(master)")
        // DASH: a text/vtt SegmentTemplate in the video's timescale, so $Time$ names the files.
        let mpd = try #require(window.mpd)
        let text2 = mpd.head + mpd.tail
        #expect(text2.contains(#"<AdaptationSet id="1" contentType="text" mimeType="text/vtt" lang="eng">"#), "\(text2)")
        #expect(text2.contains(#"<SegmentTemplate timescale="90000""#) && text2.contains(#"media="text_eng/seg_$Time$.vtt""#), "\(text2)")

        // The journal replayed: the same text segments, names and documents.
        var copy = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 30, timescale: 1))
        for record in window.records() {
            var initBytes: [UInt8]?
            if case .initialization = record { initBytes = [1, 2, 3] }
            copy.replay(record, initBytes: initBytes)
        }
        _ = copy.finishReplay(now: 1_000_006)
        #expect(Self.document(copy, "text_eng/playlist.m3u8") == text)
        let copied = try #require(copy.mpd)
        #expect(copied.head + copied.tail == text2)
    }

    @Test func captionsFoundLaterAreSignalledNeverNone() throws {
        var window = Self.filled(count: 2)
        // Nothing found yet: no CLOSED-CAPTIONS attribute at all (captions may start later).
        #expect(!Self.document(window, "master.m3u8").contains("CLOSED-CAPTIONS"))
        let none = window.addCaptions(ClosedCaptions(), folder: "video_180p")
        let first = window.addCaptions(ClosedCaptions(cea608: [1]), folder: "video_180p")
        let again = window.addCaptions(ClosedCaptions(cea608: [1]), folder: "video_180p")
        let more = window.addCaptions(ClosedCaptions(cea608: [3]), folder: "video_180p")
        #expect(!none && first && !again && more)
        window.publish(now: 1_000_010)
        let master = Self.document(window, "master.m3u8")
        #expect(master.contains(#"INSTREAM-ID="CC1""#) && master.contains(#"INSTREAM-ID="CC3""#) && master.contains(#"CLOSED-CAPTIONS="cc""#),
                "\(master)")
        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).contains(#"value="CC1=und;CC3=und""#))
        // A new epoch announces the rendition again: its captions stay.
        window.beginEpoch(tracks: Self.tracks(), start: window.nextEpochStart(now: 1_000_011), now: 1_000_011)
        #expect(window.presentation.tracks["video_180p"]?.description.captions?.cea608 == [1, 3])
    }

    /// `captions:` labels what is found; the captions are journaled, so a restarted window
    /// signals them before any are found again.
    @Test func labelledCaptionsAreJournaled() throws {
        var window = Self.filled(count: 2)
        let labels = ["CC1": ClosedCaptions.Label(language: "eng", name: "English"), "CC3": ClosedCaptions.Label(language: "spa")]
        let added = window.addCaptions(ClosedCaptions.labelled(ClosedCaptions(cea608: [1]), labels), folder: "video_180p")
        #expect(added)
        window.publish(now: 1_000_010)
        let master = Self.document(window, "master.m3u8")
        #expect(master.contains(#"NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,INSTREAM-ID="CC1""#), "\(master)")
        #expect(!master.contains("CC3"))
        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).contains(#"value="CC1=eng""#))

        var copy = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 30, timescale: 1))
        let records = window.records()
        let journaled = records.contains { record in
            guard case .captions(let folder, let captions) = record else { return false }
            return folder == "video_180p" && captions.labels["CC1"]?.name == "English"
        }
        #expect(journaled)
        for record in records {
            let line = try JSONEncoder().encode(record)
            copy.replay(try JSONDecoder().decode(LiveArchive.Record.self, from: line), initBytes: [0])
        }
        _ = copy.finishReplay(now: 1_000_010)
        #expect(Self.document(copy, "master.m3u8") == master)
    }
}
