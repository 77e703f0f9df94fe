import Foundation
import KerfCore
import KerfManifest
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// `hls.renditions-misaligned`: a variant's playlist and its audio rendition compared by
/// EXT-X-PROGRAM-DATE-TIME (RFC 8216bis §6.2.4), the case Chromium's HLS player fails on.
@Suite(.tags(.unit)) struct RenditionAlignmentTests {
    static let master = """
        #EXTM3U
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="en",DEFAULT=YES,URI="audio.m3u8"
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="fr",URI="fr/audio.m3u8"
        #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="en",URI="subs.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=900000,AUDIO="aac",SUBTITLES="subs"
        video.m3u8
        #EXT-X-STREAM-INF:BANDWIDTH=90000,AUDIO="aac"
        audio.m3u8
        """

    /// A media playlist of segments lasting `durations`, the first starting `start` seconds after
    /// 10:00:00; with `dated` false, no EXT-X-PROGRAM-DATE-TIME.
    static func playlist(start: Double, durations: [String], dated: Bool = true, live: Bool = false) -> String {
        var text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n"
        if dated { text += "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T10:00:\(String(format: "%06.3f", start))Z\n" }
        for (index, duration) in durations.enumerated() { text += "#EXTINF:\(duration),\ns\(index).m4s\n" }
        return live ? text : text + "#EXT-X-ENDLIST\n"
    }

    static func media(_ text: String) throws -> MediaPlaylist { try HLSDocument.parse(Array(text.utf8)).mediaPlaylist() }

    @Test func pairsAreEachVariantWithTheAudioAndVideoOfItsGroups() throws {
        let document = try HLSDocument.parse(Array(Self.master.utf8))
        let pairs = HLSRules.renditionPairs(document, location: "/p/master.m3u8")
        // The audio-only variant is its own group's first rendition: only the second pairs with it.
        #expect(pairs.map { "\($0.variant) \($0.rendition) \($0.line) \($0.renditionURI)" } == [
            "/p/video.m3u8 /p/audio.m3u8 6 audio.m3u8", "/p/video.m3u8 /p/fr/audio.m3u8 6 fr/audio.m3u8",
            "/p/audio.m3u8 /p/fr/audio.m3u8 8 fr/audio.m3u8"])
    }

    @Test func renditionsAStepApartAreFoundAndThoseInStepAreNot() throws {
        let pair = HLSRules.RenditionPair(variant: "/p/video.m3u8", rendition: "/p/audio.m3u8", line: 6,
                                          variantURI: "video.m3u8", renditionURI: "audio.m3u8")
        let video = try Self.media(Self.playlist(start: 0, durations: ["2.080", "2.000", "2.000"]))
        // The audio starts one segment later: 2.005 s, over the 2 s target duration.
        let late = try Self.media(Self.playlist(start: 2.005, durations: ["1.984", "2.005"]))
        let finding = try #require(HLSRules.alignment(pair, variant: video, rendition: late, file: "master.m3u8"))
        #expect(finding.message == "audio.m3u8 starts 2.005 s after video.m3u8 (EXT-X-PROGRAM-DATE-TIME), "
            + "more than the target duration (2.000 s) one may have that the other lacks")
        #expect(finding.line == 6 && finding.severity == .error && finding.reference == "RFC 8216bis §6.2.4")
        // A whole 2 s segment apart is within §6.2.4, but Chromium cannot start on it.
        let segmentLate = try Self.media(Self.playlist(start: 2, durations: ["1.984", "2.005"]))
        let warning = try #require(HLSRules.alignment(pair, variant: video, rendition: segmentLate, file: "master.m3u8"))
        #expect(warning.rule == "hls.renditions-start-apart" && warning.severity == .warning)
        #expect(warning.message == "audio.m3u8 starts 2.000 s after video.m3u8 (EXT-X-PROGRAM-DATE-TIME), more than half the target "
            + "duration: a player starting both where video.m3u8 starts has no audio.m3u8 there")
        // In step: the boundaries differ by an audio frame.
        let inStep = try Self.media(Self.playlist(start: 0.021, durations: ["1.984", "2.005", "2.005"]))
        #expect(HLSRules.alignment(pair, variant: video, rendition: inStep, file: "master.m3u8") == nil)
        // The same start, but the audio goes on 3.5 s longer.
        let long = try Self.media(Self.playlist(start: 0, durations: ["2.000", "2.000", "2.000", "2.000", "1.580"]))
        #expect(HLSRules.alignment(pair, variant: video, rendition: long, file: "master.m3u8")?.message.hasPrefix(
            "audio.m3u8 ends 3.500 s after video.m3u8") == true)
        // Without dates there is nothing to compare.
        let undated = try Self.media(Self.playlist(start: 2.005, durations: ["1.984", "2.005"], dated: false))
        #expect(HLSRules.alignment(pair, variant: video, rendition: undated, file: "master.m3u8") == nil)
    }

    @Test func aDateLaterInThePlaylistIsCountedBack() throws {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\na.m4s\n#EXT-X-PROGRAM-DATE-TIME:2026-12-07T10:00:10.000Z\n"
            + "#EXTINF:1.500,\nb.m4s\n"
        let span = try #require(HLSRules.datedSpan(Self.media(text)))
        let ten = try #require(UTCTime.parseXSDateTime("2026-12-07T10:00:10.000Z"))
        #expect(abs(span.start - (ten - 2)) < 1e-6 && abs(span.end - (ten + 1.5)) < 1e-6)
    }

    /// The whole validation of files on disk: the late audio rendition is reported on the
    /// multivariant playlist's line of the variant, once; live or not.
    @Test func theValidatorReportsAPackageWhoseAudioStartsLate() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-alignment")
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ audioStart: Double, live: Bool = false) throws {
            try "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"en\",URI=\"audio.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=900000,AUDIO=\"aac\"\nvideo.m3u8\n"
                .write(to: dir.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
            try Self.playlist(start: 0, durations: ["2.000", "2.000", "2.000"], live: live)
                .write(to: dir.appendingPathComponent("video.m3u8"), atomically: true, encoding: .utf8)
            try Self.playlist(start: audioStart, durations: ["2.000", "2.000"], live: live)
                .write(to: dir.appendingPathComponent("audio.m3u8"), atomically: true, encoding: .utf8)
            for index in 0..<3 { FileManager.default.createFile(atPath: dir.appendingPathComponent("s\(index).m4s").path, contents: Data()) }
        }
        let master = dir.appendingPathComponent("master.m3u8").path
        try write(2.5)
        let apart = try await Validator().validate(master).findings.filter { $0.rule == "hls.renditions-misaligned" }
        #expect(apart.map { "\($0.file):\($0.line ?? 0)" } == ["\(master):4"])
        // Live playlists apart are read again before they are reported.
        try write(2.5, live: true)
        let liveApart = try await Validator().validate(master).findings.filter { $0.rule == "hls.renditions-misaligned" }
        #expect(liveApart.count == 1)
        try write(0)
        let inStep = try await Validator().validate(master).findings.filter { $0.rule == "hls.renditions-misaligned" }
        #expect(inStep.isEmpty)
    }

    /// While `--live` watches, a pair is reported after two rounds in a row found it apart,
    /// and only once.
    @Test func liveRoundsReportAPairApartTwiceInARow() throws {
        let pair = HLSRules.RenditionPair(variant: "v.m3u8", rendition: "a.m3u8", line: 4, variantURI: "v.m3u8", renditionURI: "a.m3u8")
        func states(audioStart: Double) throws -> [LiveMonitor.PlaylistState] {
            [LiveMonitor.PlaylistState(location: "v.m3u8", base: "v.m3u8",
                                       playlist: try Self.media(Self.playlist(start: 0, durations: ["2.000", "2.000", "2.000"], live: true)), lastGrowth: 0),
             LiveMonitor.PlaylistState(location: "a.m3u8", base: "a.m3u8",
                                       playlist: try Self.media(Self.playlist(start: audioStart, durations: ["2.000", "2.000"], live: true)), lastGrowth: 0)]
        }
        var alignment = LiveMonitor.Alignment(pairs: [pair], file: "master.m3u8")
        #expect(alignment.compare(try states(audioStart: 2.1)).isEmpty)  // one round: maybe a publication in between
        #expect(alignment.compare(try states(audioStart: 0)).isEmpty)
        #expect(alignment.compare(try states(audioStart: 2.1)).isEmpty)
        let found = alignment.compare(try states(audioStart: 2.1))
        #expect(found.map { "\($0.rule) \($0.file):\($0.line ?? 0)" } == ["hls.renditions-misaligned master.m3u8:4"])
        #expect(alignment.compare(try states(audioStart: 2.1)).isEmpty)  // reported once
    }
}
