import Foundation
import KerfCore
import KerfMedia
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfPackager

/// The live packager's text tracks: WebVTT segments cut at the video's boundaries, on the
/// channel timeline, read back by FFmpeg's WebVTT demuxer.
@Suite(.tags(.integration)) struct LivePackagerTextTests {
    @Test func cuesAreCutAtTheVideoBoundariesOnTheChannelTimeline() throws {
        let (packager, run) = try LivePackagerTests.run("two_languages_subs.mp4", offset: MediaTime(value: 5, timescale: 1))
        let text = try #require(packager.tracks.first { $0.kind == .text })
        #expect(text.folder == "text_eng" && text.language == "eng" && text.number == packager.tracks.count - 1)
        let video = run.segments.filter { $0.track == 0 }, texts = run.segments.filter { $0.track == text.number }
        #expect(texts.map(\.start) == video.map(\.start) && texts.map(\.duration) == video.map(\.duration))
        #expect(run.inits[text.number] == nil, "no init segment for WebVTT")
        // FFmpeg reads each segment: the input's cues (0.5–2.5, 3–5, 5.5–7.5 s) 5 s later, a
        // cue crossing a boundary in both segments.
        let directory = try Fixtures.temporaryDirectory("kerf-live-vtt")
        defer { try? FileManager.default.removeItem(at: directory) }
        var found: [[String]] = []
        for (index, segment) in texts.enumerated() {
            let file = directory.appendingPathComponent("seg_\(index).vtt")
            try Data(segment.bytes).write(to: file)
            let result = try Command.run("ffprobe", ["-v", "error", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", file.path])
            #expect(result.status == 0, "\(result.stderr)")
            found.append(result.stdout.split(separator: "\n").map(String.init))
        }
        #expect(found == [["5.500000,2.000000"], ["5.500000,2.000000", "8.000000,2.000000"], ["8.000000,2.000000", "10.500000,2.000000"],
                          ["10.500000,2.000000"]], "\(found)")
    }

    /// SubRip, ASS and WebVTT tracks (in Matroska, made from the fixture's mov_text by FFmpeg)
    /// give the same cues.
    @Test(arguments: ["srt", "ass", "webvtt"]) func textCodecsGiveTheSameCues(codec: String) throws {
        let directory = try Fixtures.temporaryDirectory("kerf-live-text-codec")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("input.mkv").path
        let made = try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("two_languages_subs.mp4"), "-map", "0:v", "-map", "0:s",
                                              "-c:v", "copy", "-c:s", codec, file])
        try #require(made.status == 0, "\(made.stderr)")
        let input = try MediaInput(url: file)
        let packager = try LivePackager(input: input, segmentDuration: MediaTime(value: 2, timescale: 1))
        var texts: [String] = []
        let packet = Packet()
        func take(_ events: [LivePackager.Event]) {
            for case .segment(let segment) in events where packager.tracks[segment.track].kind == .text {
                texts.append(String(decoding: segment.bytes, as: UTF8.self))
            }
        }
        while try input.read(into: packet) == .packet { take(try packager.push(packet).events) }
        take(try packager.finish())
        #expect(texts.count == 4, "\(texts)")
        #expect(texts.first?.contains("00:00:00.500 --> 00:00:02.500\nHello from Kerf.\n") == true, "\(texts)")
        #expect(texts.last?.contains("00:00:05.500 --> 00:00:07.500\nGoodbye.\n") == true, "\(texts)")
    }
}
