import Foundation
import KerfCore
import KerfTestSupport
import Testing
@testable import KerfManifest
import KerfTestTags

@Suite(.tags(.unit)) struct HLSDocumentTests {
    static let media = """
        #EXTM3U
        #EXT-X-VERSION:6
        #EXT-X-TARGETDURATION:6
        #EXT-X-PLAYLIST-TYPE:VOD
        #EXT-X-INDEPENDENT-SEGMENTS
        #EXT-X-MAP:URI="init.mp4"
        #EXT-X-KEY:METHOD=AES-128,URI="../key.bin",IV=0x00000000000000000000000000000001
        #EXTINF:6.000,
        seg_1.m4s
        #EXT-X-DISCONTINUITY
        #EXTINF:4.021333,title
        #EXT-X-BYTERANGE:1000@200
        seg_2.m4s
        #EXT-X-ENDLIST

        """

    static let multivariant = """
        #EXTM3U
        #EXT-X-INDEPENDENT-SEGMENTS

        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-aac",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_eng_aac/playlist.m3u8"
        #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="text_eng/playlist.m3u8"

        #EXT-X-STREAM-INF:BANDWIDTH=409738,AVERAGE-BANDWIDTH=408988,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,VIDEO-RANGE=SDR,AUDIO="audio-aac",SUBTITLES="subs"
        video_360p/playlist.m3u8

        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=31888,CODECS="avc1.64001e",RESOLUTION=640x360,VIDEO-RANGE=SDR,URI="video_360p/iframes.m3u8"

        """

    func parse(_ text: String) throws -> HLSDocument { try HLSDocument.parse(Array(text.utf8)) }

    @Test func mediaPlaylistRoundTripsLosslesslyAndThroughTheModel() throws {
        let document = try parse(Self.media)
        #expect(document.issues.isEmpty)
        #expect(document.serialize() == Self.media)
        let playlist = document.mediaPlaylist()
        #expect(playlist.targetDuration == 6)
        #expect(playlist.segments.map(\.uri) == ["seg_1.m4s", "seg_2.m4s"])
        #expect(playlist.segments[1].duration == MediaTime(value: 4_021_333, timescale: 1_000_000))
        #expect(playlist.segments[1].byteRange == ByteRange(length: 1000, offset: 200))
        #expect(playlist.segments[1].discontinuity && playlist.segments[1].title == "title")
        #expect(playlist.segments[0].key?.iv == "0x00000000000000000000000000000001")
        #expect(HLSWriter.write(playlist) == Self.media)
    }

    @Test func multivariantRoundTripsThroughTheModel() throws {
        let document = try parse(Self.multivariant)
        #expect(document.isMultivariant && document.issues.isEmpty)
        #expect(document.serialize() == Self.multivariant)
        let playlist = document.multivariantPlaylist()
        #expect(playlist.variants.first?.codecs == ["avc1.64001e", "mp4a.40.2"])
        #expect(playlist.variants.first?.resolution?.width == 640)
        #expect(HLSWriter.write(playlist) == Self.multivariant)
    }

    @Test func keysOfSeveralKeyFormatsApplyTogetherAndRoundTrip() throws {
        let text = """
            #EXTM3U
            #EXT-X-VERSION:6
            #EXT-X-TARGETDURATION:2
            #EXT-X-MEDIA-SEQUENCE:0
            #EXT-X-MAP:URI="init.mp4"
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,AAAA",KEYID=0x00112233445566778899aabbccddeeff,KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",KEYFORMATVERSIONS="1"
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI="../key.bin",KEYID=0x00112233445566778899aabbccddeeff,KEYFORMAT="identity"
            #EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://a",KEYID=0x00112233445566778899aabbccddeeff,KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
            #EXTINF:2.000,
            seg_1.m4s
            #EXT-X-KEY:METHOD=NONE
            #EXTINF:2.000,
            seg_2.m4s

            """
        let playlist = try parse(text).mediaPlaylist()
        #expect(playlist.segments[0].keys.map(\.keyFormat) == ["urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed", "identity", "com.apple.streamingkeydelivery"])
        #expect(playlist.segments[0].key?.uri == "../key.bin", "the identity key is the one a client without DRM uses")
        #expect(playlist.segments[1].keys == [HLSKey(method: .none)])
        // The writer puts every key before EXT-X-PROGRAM-DATE-TIME.
        let date = "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n"
        let fairPlay = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://a\",KEYID=0x00112233445566778899aabbccddeeff,KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n"
        #expect(HLSWriter.write(playlist) == text.replacing(date + fairPlay, with: fairPlay + date))
    }

    @Test func attributeProblemsAreReportedWithColumns() throws {
        let cases: [(String, Int, String)] = [
            (#"#EXT-X-KEY:METHOD=AES-128,URI="k"#, 31, "unterminated"),  // where the quote opens
            ("#EXT-X-KEY:METHOD=NONE,", 24, "trailing"),
            ("#EXT-X-KEY:method=NONE", 12, "not [A-Z0-9-]+"),
            ("#EXT-X-MAP:URI", 15, "has no value"),
            ("#EXT-X-MAP:URI=", 16, "empty value"),
            (#"#EXT-X-MAP:URI="a"X=1"#, 19, "expected ','"),
        ]
        for (line, column, message) in cases {
            let document = try parse("#EXTM3U\n" + line + "\n")
            #expect(document.issues.count == 1, "\(line)")
            #expect(document.issues.first?.line == 2)
            #expect(document.issues.first?.column == column, "\(line): \(document.issues)")
            #expect(document.issues.first?.message.contains(message) == true, "\(line): \(document.issues)")
        }
        // Commas inside quoted strings are part of the value.
        let ok = try parse(#"#EXT-X-STREAM-INF:CODECS="a,b",BANDWIDTH=1"# + "\nv.m3u8\n")
        #expect(ok.issues.isEmpty)
        #expect(ok.multivariantPlaylist().variants.first?.codecs == ["a", "b"])
    }

    @Test func decimalsParseExactly() {
        #expect(HLSDocument.decimal("6") == MediaTime(value: 6, timescale: 1))
        #expect(HLSDocument.decimal("0.021333") == MediaTime(value: 21_333, timescale: 1_000_000))
        #expect(HLSDocument.decimal("1.0000005") == MediaTime(value: 1_000_001, timescale: 1_000_000))
        for bad in ["", "-1", "1e3", "abc", "1.2.3", "99999999999999999"] { #expect(HLSDocument.decimal(bad) == nil, "\(bad)") }
    }

    @Test func hostileInputIsBoundedAndReported() throws {
        var bytes = Array("#EXTM3U\n#EXTINF:1,\n".utf8) + [0xff, 0xfe, 0x0a]
        bytes += Array(repeating: UInt8(ascii: "a"), count: 70_000) + [0x0a]
        let document = try HLSDocument.parse([0xef, 0xbb, 0xbf] + bytes)
        #expect(document.issues.map(\.message).contains("byte order mark before #EXTM3U"))
        #expect(document.issues.contains { $0.line == 3 && $0.message.contains("UTF-8") })
        #expect(document.issues.contains { $0.line == 4 && $0.message.contains("70000 bytes") })
        let tooBig = #expect(throws: ManifestError.self) {
            _ = try HLSDocument.parse(Array(repeating: 0x41, count: 2048), limits: .init(maxBytes: 1024))
        }
        #expect(tooBig?.code == .tooLarge)
        #expect(throws: ManifestError.self) {
            _ = try HLSDocument.parse(Array(repeating: 0x0a, count: 100), limits: .init(maxLines: 50))
        }
    }

    /// 10,000 mutations of valid playlists (truncations, byte flips, huge numbers, junk) never
    /// crash the parser or its typed views, and none takes long.
    @Test func mutatedPlaylistsNeverCrashOrHang() throws {
        var generator = SplitMix(seed: 0x4b657266)
        let seeds = [Array(Self.media.utf8), Array(Self.multivariant.utf8)]
        let junk: [[UInt8]] = [Array("99999999999999999999999".utf8), Array("\"".utf8), Array(",,,".utf8),
                               Array("#EXT-X-KEY:".utf8), [0], [0xc3], Array("=".utf8), Array("\r\n".utf8)]
        var slowest: Duration = .zero
        for _ in 0..<10_000 {
            let seed = seeds[Int(generator.next() % 2)]
            let bytes = generator.mutate(seed, junk: junk)
            let start = ContinuousClock.now
            let document = try HLSDocument.parse(bytes)
            _ = document.mediaPlaylist()
            _ = document.multivariantPlaylist()
            _ = document.serialize()
            slowest = max(slowest, ContinuousClock.now - start)
        }
        // The slowest of 10,000 parses: a hang takes forever, a loaded machine may pause the thread a second or two.
        #expect(slowest < .seconds(5))
    }
}

/// HLS playlists from ffmpeg (a process: the integration layer).
@Suite(.tags(.integration)) struct HLSDocumentOracleTests {
    /// A playlist written by ffmpeg, the oracle, parses without issues and round-trips.
    @Test func ffmpegPlaylistsRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-hls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let playlist = dir.appendingPathComponent("out.m3u8").path
        let made = try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "hls",
                                              "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", playlist])
        #expect(made.status == 0)
        let text = try String(contentsOfFile: playlist, encoding: .utf8)
        let document = try HLSDocumentTests().parse(text)
        #expect(document.issues.isEmpty)
        #expect(document.serialize() == text)
        let media = document.mediaPlaylist()
        #expect(media.segments.count == 5 && media.endList && media.segments[0].map?.uri == "init.mp4")
        let total = media.segments.reduce(MediaTime.zero(timescale: 1_000_000)) { $0 + $1.duration }
        #expect(abs(total.seconds - 10) < 0.001)
    }
}
