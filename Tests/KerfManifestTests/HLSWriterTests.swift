import KerfCore
import Testing
@testable import KerfManifest
import KerfTestTags

private func seconds(_ value: Int64, _ timescale: Int64 = 1) -> MediaTime {
    MediaTime(value: value, timescale: timescale)
}

@Suite(.tags(.unit)) struct HLSDecimalTests {
    @Test func formatsDurations() {
        #expect(hlsDecimal(seconds(6)) == "6.000")
        #expect(hlsDecimal(seconds(26_624, 12_800)) == "2.080")     // 2.08 s of 25 fps video
        #expect(hlsDecimal(seconds(1024, 48_000)) == "0.021333")    // one AAC frame
        #expect(hlsDecimal(seconds(1001, 30_000)) == "0.033367")    // rounded to six places
        #expect(hlsDecimal(seconds(1, 2)) == "0.500")
        #expect(hlsDecimal(seconds(123_456_789, 1_000_000)) == "123.456789")
        #expect(hlsDecimal(seconds(481_024, 48_000)) == "10.021333")
        #expect(hlsDecimal(seconds(0)) == "0.000")
    }
}

@Suite(.tags(.unit)) struct MediaPlaylistTests {
    @Test func targetDurationRoundsToNearestAndIsAtLeastOne() {
        #expect(MediaPlaylist.targetDuration(for: [seconds(55, 10)]) == 6)
        #expect(MediaPlaylist.targetDuration(for: [seconds(54, 10)]) == 5)
        #expect(MediaPlaylist.targetDuration(for: [seconds(6), seconds(59, 10), seconds(2)]) == 6)
        #expect(MediaPlaylist.targetDuration(for: [seconds(4), seconds(76_800 + 6_400, 12_800)]) == 7)  // 6.5 s
        #expect(MediaPlaylist.targetDuration(for: [seconds(2, 10)]) == 1)
        #expect(MediaPlaylist.targetDuration(for: [seconds(0)]) == 1)
        #expect(MediaPlaylist.targetDuration(for: []) == 1)
    }

    @Test func writesAVODPlaylistWithFractionalDurations() {
        var playlist = MediaPlaylist(targetDuration: 6, segments: [
            MediaSegment(uri: "video_0.ts", duration: seconds(6)),
            MediaSegment(uri: "video_1.ts", duration: seconds(6)),
            MediaSegment(uri: "video_2.ts", duration: seconds(26_624, 12_800)),
        ])
        playlist.playlistType = .vod
        playlist.endList = true
        #expect(playlist.requiredVersion == 3)
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-VERSION:3
            #EXT-X-TARGETDURATION:6
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXTINF:6.000,
            video_0.ts
            #EXTINF:6.000,
            video_1.ts
            #EXTINF:2.080,
            video_2.ts
            #EXT-X-ENDLIST

            """)
    }

    @Test func writesAnFMP4PlaylistWithMapAndKey() {
        var first = MediaSegment(uri: "seg_0.m4s", duration: seconds(6))
        first.map = HLSMap(uri: "init.mp4")
        first.key = HLSKey(method: .aes128, uri: "key.bin", iv: "0x00000000000000000000000000000000")
        var second = MediaSegment(uri: "seg_1.m4s", duration: seconds(481_024, 48_000))
        second.discontinuity = true
        second.programDateTime = "2024-01-01T00:00:06.000Z"
        second.title = "end"
        var playlist = MediaPlaylist(targetDuration: 10, segments: [first, second])
        playlist.independentSegments = true
        playlist.mediaSequence = 3
        playlist.endList = true
        #expect(playlist.requiredVersion == 6)
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-VERSION:6
            #EXT-X-TARGETDURATION:10
            #EXT-X-MEDIA-SEQUENCE:3
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MAP:URI="init.mp4"
            #EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x00000000000000000000000000000000
            #EXTINF:6.000,
            seg_0.m4s
            #EXT-X-DISCONTINUITY
            #EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:06.000Z
            #EXTINF:10.021333,end
            seg_1.m4s
            #EXT-X-ENDLIST

            """)
    }

    @Test func writesByteRangesOfASingleFile() {
        var first = MediaSegment(uri: "audio.mp4", duration: seconds(2), byteRange: ByteRange(length: 1000, offset: 800))
        first.map = HLSMap(uri: "audio.mp4", byteRange: ByteRange(length: 800, offset: 0))
        let second = MediaSegment(uri: "audio.mp4", duration: seconds(2), byteRange: ByteRange(length: 1200, offset: nil))
        var playlist = MediaPlaylist(targetDuration: 2, segments: [first, second])
        playlist.playlistType = .vod
        #expect(playlist.requiredVersion == 6)
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-VERSION:6
            #EXT-X-TARGETDURATION:2
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXT-X-MAP:URI="audio.mp4",BYTERANGE="800@0"
            #EXTINF:2.000,
            #EXT-X-BYTERANGE:1000@800
            audio.mp4
            #EXTINF:2.000,
            #EXT-X-BYTERANGE:1200
            audio.mp4

            """)
    }

    @Test func mediaSequenceIsWrittenForLivePlaylists() {
        let playlist = MediaPlaylist(targetDuration: 4, segments: [MediaSegment(uri: "a.ts", duration: seconds(4))])
        #expect(HLSWriter.write(playlist).contains("#EXT-X-MEDIA-SEQUENCE:0\n"))
        var event = playlist
        event.playlistType = .event
        #expect(!HLSWriter.write(event).contains("#EXT-X-MEDIA-SEQUENCE"))
        #expect(HLSWriter.write(event).contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"))
    }

    @Test func requiredVersionFollowsFeatures() {
        let fractional = MediaSegment(uri: "s.ts", duration: seconds(1024, 48_000))
        let integral = MediaSegment(uri: "s.ts", duration: seconds(12_800 * 4, 12_800))
        #expect(MediaPlaylist(targetDuration: 4, segments: [integral]).requiredVersion == 3)
        #expect(MediaPlaylist(targetDuration: 1, segments: [fractional]).requiredVersion == 3)

        var ranged = integral
        ranged.byteRange = ByteRange(length: 10, offset: 0)
        #expect(MediaPlaylist(targetDuration: 4, segments: [ranged]).requiredVersion == 4)

        var iFrames = MediaPlaylist(targetDuration: 4, segments: [integral])
        iFrames.iFramesOnly = true
        #expect(iFrames.requiredVersion == 4)
        iFrames.segments[0].map = HLSMap(uri: "init.mp4")
        #expect(iFrames.requiredVersion == 5)

        var keyFormat = integral
        keyFormat.key = HLSKey(method: .sampleAES, uri: "skd://key")
        #expect(MediaPlaylist(targetDuration: 4, segments: [keyFormat]).requiredVersion == 5)

        var mapped = fractional
        mapped.map = HLSMap(uri: "init.mp4")
        #expect(MediaPlaylist(targetDuration: 1, segments: [mapped]).requiredVersion == 6)
    }

    @Test func decimalExtinfNeedsVersionThreeEvenForIntegralDurations() {
        // EXTINF is always decimal ("4.000"), which RFC 8216bis §4.4.4.1 allows from version 3.
        let playlist = MediaPlaylist(targetDuration: 4, segments: [MediaSegment(uri: "s.ts", duration: seconds(4))])
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-VERSION:3
            #EXT-X-TARGETDURATION:4
            #EXT-X-MEDIA-SEQUENCE:0
            #EXTINF:4.000,
            s.ts

            """)
    }
}

@Suite(.tags(.unit)) struct MultivariantPlaylistTests {
    static func ladder() -> MultivariantPlaylist {
        var audio = Rendition(type: .audio, groupID: "aud", name: "English", uri: "audio_en.m3u8")
        audio.language = "en"
        audio.isDefault = true
        audio.channels = "2"
        var subtitles = Rendition(type: .subtitles, groupID: "subs", name: "Français", uri: "subs_fr.m3u8")
        subtitles.language = "fr"
        var low = VariantStream(uri: "video_360.m3u8", bandwidth: 800_000)
        low.averageBandwidth = 650_000
        low.codecs = ["avc1.64001e", "mp4a.40.2"]
        low.resolution = (640, 360)
        low.frameRate = 25
        low.audioGroup = "aud"
        low.subtitlesGroup = "subs"
        low.closedCaptions = "NONE"
        var high = VariantStream(uri: "video_720.m3u8", bandwidth: 2_500_000)
        high.codecs = ["avc1.64001f", "mp4a.40.2"]
        high.resolution = (1280, 720)
        high.frameRate = 29.97
        high.videoRange = "SDR"
        high.audioGroup = "aud"
        var iFrames = IFrameVariantStream(uri: "iframes_720.m3u8", bandwidth: 150_000, codecs: ["avc1.64001f"])
        iFrames.width = 1280
        iFrames.height = 720
        return MultivariantPlaylist(renditions: [audio, subtitles], variants: [low, high], iFrameVariants: [iFrames])
    }

    @Test func writesRenditionsVariantsAndIFrameStreams() {
        let playlist = Self.ladder()
        #expect(playlist.requiredVersion == 1)
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-INDEPENDENT-SEGMENTS

            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_en.m3u8"
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subs_fr.m3u8"

            #EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=650000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="aud",SUBTITLES="subs",CLOSED-CAPTIONS=NONE
            video_360.m3u8

            #EXT-X-STREAM-INF:BANDWIDTH=2500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,VIDEO-RANGE=SDR,AUDIO="aud"
            video_720.m3u8

            #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=150000,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="iframes_720.m3u8"

            """)
    }

    @Test func closedCaptionsRenditionRaisesVersionAndIsQuotedInVariants() {
        var captions = Rendition(type: .closedCaptions, groupID: "cc", name: "English CC", uri: nil)
        captions.instreamID = "SERVICE1"
        var variant = VariantStream(uri: "v.m3u8", bandwidth: 1_000_000)
        variant.closedCaptions = "cc"
        let playlist = MultivariantPlaylist(independentSegments: false, renditions: [captions], variants: [variant])
        #expect(playlist.requiredVersion == 7)
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-VERSION:7

            #EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English CC",DEFAULT=NO,AUTOSELECT=YES,INSTREAM-ID="SERVICE1"

            #EXT-X-STREAM-INF:BANDWIDTH=1000000,CLOSED-CAPTIONS="cc"
            v.m3u8

            """)
    }

    @Test func frameRateHasThreeDecimals() {
        #expect(HLSWriter.frameRate(25) == "25.000")
        #expect(HLSWriter.frameRate(30_000.0 / 1001.0) == "29.970")
        #expect(HLSWriter.frameRate(23.976) == "23.976")
        #expect(HLSWriter.frameRate(59.94) == "59.940")
        #expect(HLSWriter.frameRate(12.5) == "12.500")
    }
}
