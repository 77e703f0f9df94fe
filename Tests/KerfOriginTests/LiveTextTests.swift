import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import KerfValidate
import Testing
@testable import KerfOrigin

/// Text tracks and closed captions of live inputs (files looped in real time): WebVTT segments
/// cut at the video's boundaries, read back by FFmpeg through the HLS and DASH manifests in sync
/// with the video; CEA-608 captions found while ingesting and signalled.
@Suite(.tags(.realtime)) struct LiveTextTests {
    static func origin(_ fixture: String, captions: [String: ClosedCaptions.Label] = [:]) async throws -> RunningOrigin {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        configuration.channels["news"] = .init(input: Fixtures.path(fixture), segmentDuration: 2, window: 30)
        configuration.channels["news"]?.captions = captions
        return try await RunningOrigin(configuration)
    }

    static func text(_ url: String) async throws -> String {
        let response = try await curl([url])
        guard response.status == 200 else { throw CommandError(message: "\(url): status \(response.status)") }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The cues FFmpeg's WebVTT muxer writes from a manifest's subtitle stream: start, end
    /// (seconds) and text.
    static func cues(_ arguments: [String]) async throws -> [(start: Double, end: Double, text: String)] {
        let result = try await Command.runDetached("ffmpeg", ["-v", "error", "-protocol_whitelist", "file,http,tcp"] + arguments
                                                   + ["-copyts", "-map", "0:s:0", "-f", "webvtt", "-"])
        guard result.status == 0 else { throw CommandError(message: "ffmpeg \(arguments): \(result.stderr)") }
        func seconds(_ text: Substring) -> Double {
            text.split(separator: ":").reduce(0.0) { $0 * 60 + (Double($1) ?? 0) }
        }
        return result.stdout.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard let timing = lines.firstIndex(where: { $0.contains(" --> ") }), timing + 1 < lines.count else { return nil }
            let times = lines[timing].components(separatedBy: " --> ")
            return (seconds(Substring(times[0])), seconds(Substring(times[1].prefix { $0 != " " })),
                    lines[(timing + 1)...].joined(separator: "\n"))
        }
    }

    /// The live playlists as they are now, ended (EXT-X-ENDLIST) with absolute URIs: FFmpeg's
    /// WebVTT demuxer reads a subtitle stream to its end before it returns anything, so it
    /// reads a live subtitle playlist only once the playlist ends.
    static func endedHLS(_ live: String, into directory: URL) async throws -> String {
        var master = try await text(live + "/master.m3u8")
        for folder in Set(master.matches(of: /([a-z0-9_]+)\/playlist\.m3u8/).map { String($0.output.1) }) {
            let playlist = try await text("\(live)/\(folder)/playlist.m3u8")
            let absolute = playlist.split(separator: "\n").map { line in
                line.hasPrefix("#") ? line.replacing(#"URI=""#, with: #"URI="\#(live)/\#(folder)/"#) : "\(live)/\(folder)/\(line)"
            }.joined(separator: "\n") + "\n#EXT-X-ENDLIST\n"
            try absolute.write(to: directory.appendingPathComponent("\(folder).m3u8"), atomically: true, encoding: .utf8)
            master = master.replacing("\(folder)/playlist.m3u8", with: "\(folder).m3u8")
        }
        let path = directory.appendingPathComponent("master.m3u8").path
        try master.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The live MPD as it is now, made static with the channel as its BaseURL (FFmpeg's DASH
    /// demuxer, like its HLS one, reads subtitles only from a presentation that ends).
    static func staticMPD(_ live: String, _ mpd: String, into directory: URL) throws -> String {
        var text = mpd.replacing(#"type="dynamic""#, with: #"type="static""#)
        guard let period = text.firstRange(of: "<Period") else { throw CommandError(message: "no Period: \(mpd)") }
        text.insert(contentsOf: "<BaseURL>\(live)/</BaseURL>\n  ", at: period.lowerBound)
        let path = directory.appendingPathComponent("static.mpd").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func subtitlesOfALoopedInputPlayInSyncThroughHLSAndDASH() async throws {
        let fixture = Fixtures.path("two_languages_subs.mp4")
        let origin = try await Self.origin("two_languages_subs.mp4")
        defer { Task { await origin.stop() } }
        // Three 2 s segments: the fixture's three cues (0.5, 3.0, 5.5 s) have started.
        let playlist = try await Live.waitForPlaylist(origin, segments: 3, within: 30, folder: "text_eng")
        let live = origin.base + "/live/news"
        let master = try await Self.text(live + "/master.m3u8")
        #expect(master.contains(#"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES"#), "\(master)")
        #expect(master.contains(#"URI="text_eng/playlist.m3u8""#) && master.contains(#"SUBTITLES="subs""#), "\(master)")
        // Each text segment is a WebVTT document timed like the video segment of the same start.
        let video = try await Self.text(live + "/video_360p/playlist.m3u8")
        let names = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("seg_") }.map { $0.prefix { $0 != "." } } }
        #expect(Array(names(playlist).prefix(3)) == Array(names(video).prefix(3)), "\(playlist)\n\(video)")
        let first = try await Self.text("\(live)/text_eng/\(names(playlist)[0]).vtt")
        #expect(first.hasPrefix("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"), "\(first)")

        // The first video frame's presentation time, from the epoch's first fragment (tfdt plus
        // the first sample's composition offset; FFmpeg shifts video times with negative offsets).
        let initURI = try #require(video.firstMatch(of: /URI="([^"]+)"/)).output.1
        let initSegment = try await curl(["\(live)/video_360p/\(initURI)"]).body
        let fragment = try await curl(["\(live)/video_360p/\(names(video)[0]).m4s"]).body
        let frameZero = try #require(FragmentClock.firstPresentation(initSegment: [UInt8](initSegment), fragment: [UInt8](fragment)))
        // The input: its cues and its first frame, as FFmpeg reads them.
        let inputCues = try await Self.cues(["-i", fixture])
        try #require(inputCues.count == 3, "\(inputCues)")
        let inputFrame = try Command.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                                                    "-read_intervals", "%+#1", "-of", "csv=p=0", fixture])
        let inputZero = try #require(Double(inputFrame.stdout.prefix { $0 != "\n" && $0 != "," }))

        let directory = try Fixtures.temporaryDirectory("kerf-live-text")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mpd = try await Self.text(live + "/manifest.mpd")
        #expect(mpd.contains(#"contentType="text" mimeType="text/vtt""#) && mpd.contains(#"media="text_eng/seg_$Time$.vtt""#), "\(mpd)")
        let hls = try await Self.endedHLS(live, into: directory)
        let dash = try Self.staticMPD(live, mpd, into: directory)
        // FFmpeg 5.1's DASH demuxer reads only the first two segments of a text/vtt
        // SegmentTimeline (it stops without asking for the third); its HLS demuxer reads them all.
        for (manifest, arguments, least) in [("HLS", ["-strict", "experimental", "-i", hls], 3), ("DASH", ["-i", dash], 2)] {
            // A cue spanning a boundary is in both segments: FFmpeg's DASH demuxer gives it twice.
            var seen = Set<String>()
            let cues = try await Self.cues(arguments).filter { seen.insert("\($0.start) \($0.end) \($0.text)").inserted }
            // Within the first loop of the input (the next loop starts 8 s and a frame later).
            let firstLoop = cues.filter { $0.start - frameZero < 7.9 }
            #expect(firstLoop.count >= least && firstLoop.map(\.text) == Array(inputCues.map(\.text).prefix(firstLoop.count)),
                    "\(manifest): \(cues)")
            for (cue, input) in zip(firstLoop, inputCues) {
                let late = (cue.start - frameZero) - (input.start - inputZero)
                #expect(abs(late) <= 0.04, "\(manifest): \(cue.text) at \(cue.start), frame 0 at \(frameZero): \(late) s off")
                #expect(abs((cue.end - cue.start) - (input.end - input.start)) <= 0.002, "\(manifest): \(cue)")
            }
        }

        let validator = Validator(schemaPath: Fixtures.dashSchema)
        for manifest in ["/master.m3u8", "/manifest.mpd"] {
            let report = try await validator.validate(live + manifest)
            #expect(report.errors == 0, "\(manifest): \(report.findings.map(\.message))")
        }
        let schema = try await Live.schemaCheck(Data(mpd.utf8))
        #expect(schema.status == 0, "\(schema.stderr)")
    }

    @Test func closedCaptionsFoundWhileIngestingAreSignalled() async throws {
        // Labelled by `captions:`; CC3 is not in the input, so not signalled.
        let origin = try await Self.origin("captions_608.mp4", captions: ["CC1": .init(language: "eng", name: "English"), "CC3": .init(language: "fra")])
        defer { Task { await origin.stop() } }
        let live = origin.base + "/live/news"
        var master = ""
        try await waitUntil("the master playlist listing CC1", timeout: .seconds(20), poll: .milliseconds(250)) {
            master = (try? await Self.text(live + "/master.m3u8")) ?? ""
            return master.contains(#"INSTREAM-ID="CC1""#)
        }
        #expect(master.contains(#"#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,INSTREAM-ID="CC1""#),
                "\(master)")
        #expect(!master.contains("CC3"))
        #expect(master.contains(#"CLOSED-CAPTIONS="cc""#) && !master.contains("CLOSED-CAPTIONS=NONE"), "\(master)")
        let mpd = try await Self.text(live + "/manifest.mpd")
        #expect(mpd.contains(#"<Accessibility schemeIdUri="urn:scte:dash:cc:cea-608:2015" value="CC1=eng"/>"#), "\(mpd)")
        let schema = try await Live.schemaCheck(Data(mpd.utf8))
        #expect(schema.status == 0, "\(schema.stderr)")
        let report = try await Validator(schemaPath: Fixtures.dashSchema).validate(live + "/master.m3u8")
        #expect(report.errors == 0, "\(report.findings.map(\.message))")

        // FFmpeg's caption decoder reads both captions (0.96 s and 3.96 s) from the live
        // segments joined behind their init segment.
        let video = try await Live.waitForPlaylist(origin, segments: 3, within: 30, folder: "video_360p")
        let initURI = try #require(video.firstMatch(of: /URI="([^"]+)"/)).output.1
        var bytes = try await curl(["\(live)/video_360p/\(initURI)"]).body
        for name in video.split(separator: "\n").filter({ $0.hasPrefix("seg_") }).prefix(3) {
            bytes += try await curl(["\(live)/video_360p/\(name)"]).body
        }
        let directory = try Fixtures.temporaryDirectory("kerf-live-cc")
        defer { try? FileManager.default.removeItem(at: directory) }
        let joined = directory.appendingPathComponent("joined.mp4").path
        try bytes.write(to: URL(fileURLWithPath: joined))
        let decoded = try await Command.runDetached("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "movie=\(joined)[out0+subcc]",
                                                              "-map", "0:1", "-f", "srt", "-"])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let captions = decoded.stdout.lowercased()
        #expect(captions.contains("kerf captions one") && captions.contains("second caption"), "\(decoded.stdout)")
    }
}

/// Presentation times read from CMAF boxes (ISO/IEC 14496-12): the timescale of an init
/// segment's `mdhd`, a fragment's `tfdt` and its first `trun` sample's composition offset.
enum FragmentClock {
    /// The children of the box body `bytes[range]`, by type, with their body ranges.
    static func boxes(_ bytes: [UInt8], _ range: Range<Int>) -> [(type: String, body: Range<Int>)] {
        var found: [(String, Range<Int>)] = []
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            let size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            guard size >= 8, offset + size <= range.upperBound else { break }
            found.append((String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self), offset + 8..<offset + size))
            offset += size
        }
        return found
    }

    static func child(_ bytes: [UInt8], _ range: Range<Int>, _ path: [String]) -> Range<Int>? {
        var current = range
        for type in path {
            guard let next = boxes(bytes, current).first(where: { $0.type == type }) else { return nil }
            current = next.body
        }
        return current
    }

    static func integer(_ bytes: [UInt8], at offset: Int, size: Int) -> Int64 {
        bytes[offset..<offset + size].reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// Seconds at which a fragment's first sample is presented.
    static func firstPresentation(initSegment: [UInt8], fragment: [UInt8]) -> Double? {
        guard let mdhd = child(initSegment, 0..<initSegment.count, ["moov", "trak", "mdia", "mdhd"]),
              let tfdt = child(fragment, 0..<fragment.count, ["moof", "traf", "tfdt"]),
              let trun = child(fragment, 0..<fragment.count, ["moof", "traf", "trun"]) else { return nil }
        let timescale = initSegment[mdhd.lowerBound] == 1 ? integer(initSegment, at: mdhd.lowerBound + 20, size: 4)
            : integer(initSegment, at: mdhd.lowerBound + 12, size: 4)
        let decode = fragment[tfdt.lowerBound] == 1 ? integer(fragment, at: tfdt.lowerBound + 4, size: 8)
            : integer(fragment, at: tfdt.lowerBound + 4, size: 4)
        let flags = Int(integer(fragment, at: trun.lowerBound + 1, size: 3))
        var offset = trun.lowerBound + 8 + (flags & 0x1 != 0 ? 4 : 0) + (flags & 0x4 != 0 ? 4 : 0)
        offset += [0x100, 0x200, 0x400].filter { flags & $0 != 0 }.count * 4
        var composition: Int64 = 0
        if flags & 0x800 != 0 {
            let raw = integer(fragment, at: offset, size: 4)
            composition = fragment[trun.lowerBound] == 1 ? Int64(Int32(truncatingIfNeeded: raw)) : raw
        }
        guard timescale > 0 else { return nil }
        return Double(decode + composition) / Double(timescale)
    }
}
