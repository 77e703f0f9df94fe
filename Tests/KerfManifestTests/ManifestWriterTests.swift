import Foundation
import KerfCore
import KerfTestSupport
import KerfXML
import Testing
@testable import KerfManifest
import KerfTestTags

@Suite(.tags(.unit)) struct ManifestWriterTests {
    func seconds(_ value: Int64, _ scale: Int64 = 1000) -> MediaTime { MediaTime(value: value, timescale: scale) }

    @Test func mediaPlaylistText() {
        var segments = [MediaSegment(uri: "seg_1.m4s", duration: seconds(6000)),
                        MediaSegment(uri: "seg_2.m4s", duration: seconds(4080))]
        segments[0].map = HLSMap(uri: "init.mp4")
        var playlist = MediaPlaylist(targetDuration: MediaPlaylist.targetDuration(for: segments.map(\.duration)),
                                     segments: segments)
        playlist.playlistType = .vod
        playlist.independentSegments = true
        playlist.endList = true
        #expect(HLSWriter.write(playlist) == """
            #EXTM3U
            #EXT-X-VERSION:6
            #EXT-X-TARGETDURATION:6
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MAP:URI="init.mp4"
            #EXTINF:6.000,
            seg_1.m4s
            #EXTINF:4.080,
            seg_2.m4s
            #EXT-X-ENDLIST

            """)
    }

    @Test func versionsFollowTheFeaturesUsed() {
        var plain = MediaPlaylist(targetDuration: 6, segments: [MediaSegment(uri: "a.ts", duration: seconds(6000))])
        #expect(plain.requiredVersion == 3)  // decimal EXTINF
        plain.segments[0].byteRange = ByteRange(length: 100, offset: 0)
        #expect(plain.requiredVersion == 4)
        plain.iFramesOnly = true
        plain.segments[0].map = HLSMap(uri: "init.mp4")
        #expect(plain.requiredVersion == 5)
        plain.iFramesOnly = false
        #expect(plain.requiredVersion == 6)
        plain.segments[0].map = nil
        plain.segments[0].byteRange = nil
        plain.segments[0].key = HLSKey(method: .sampleAES, uri: "k")
        #expect(plain.requiredVersion == 5)
    }

    @Test func targetDurationRoundsToNearest() {
        #expect(MediaPlaylist.targetDuration(for: [seconds(5500)]) == 6)
        #expect(MediaPlaylist.targetDuration(for: [seconds(5499), seconds(2000)]) == 5)
        #expect(MediaPlaylist.targetDuration(for: [seconds(100)]) == 1)
        #expect(MediaPlaylist.targetDuration(for: []) == 1)
    }

    @Test func decimalsAreExactToTheMicrosecond() {
        #expect(hlsDecimal(seconds(6000)) == "6.000")
        #expect(hlsDecimal(seconds(2080)) == "2.080")
        #expect(hlsDecimal(MediaTime(value: 1024, timescale: 48000)) == "0.021333")
        #expect(hlsDecimal(MediaTime(value: 1001, timescale: 30000)) == "0.033367")
    }

    @Test func multivariantText() {
        var audio = Rendition(type: .audio, groupID: "aac", name: "English", uri: "a/playlist.m3u8")
        audio.language = "eng"
        audio.isDefault = true
        audio.channels = "2"
        var variant = VariantStream(uri: "v/playlist.m3u8", bandwidth: 1_200_000)
        variant.averageBandwidth = 1_000_000
        variant.codecs = ["avc1.64001f", "mp4a.40.2"]
        variant.resolution = (1280, 720)
        variant.frameRate = 29.97
        variant.videoRange = "SDR"
        variant.audioGroup = "aac"
        let text = HLSWriter.write(MultivariantPlaylist(renditions: [audio], variants: [variant]))
        #expect(text.contains(#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a/playlist.m3u8""#))
        #expect(text.contains(#"#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,VIDEO-RANGE=SDR,AUDIO="aac""# + "\nv/playlist.m3u8"))
        #expect(text.hasPrefix("#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"))
    }

    @Test func timelineRunLengthEncodes() {
        let entries = SegmentTimelineEntry.compress([(0, 100), (100, 100), (200, 100), (300, 50), (400, 100)])
        #expect(entries == [SegmentTimelineEntry(t: 0, d: 100, r: 2), SegmentTimelineEntry(t: nil, d: 50),
                            SegmentTimelineEntry(t: 400, d: 100)])  // the gap at 350 restates t
    }

    @Test func xsDurations() {
        #expect(MPDWriter.duration(seconds(6000)) == "PT6S")
        #expect(MPDWriter.duration(seconds(10021)) == "PT10.021S")
        #expect(MPDWriter.duration(seconds(500)) == "PT0.5S")
    }

    @Test func writtenMPDValidatesAgainstTheSchema() throws {
        let schemaPath = Fixtures.dashSchema
        guard FileManager.default.fileExists(atPath: schemaPath) else {
            Issue.record("DASH schema missing at \(schemaPath)")
            return
        }
        var video = Representation(id: "v1", bandwidth: 800_000)
        video.codecs = "avc1.64001f"
        video.width = 1280
        video.height = 720
        video.frameRate = "25"
        video.segmentTemplate = SegmentTemplate(timescale: 12800, initialization: "v1/init.mp4", media: "v1/seg_$Number$.m4s",
                                                startNumber: 1, timeline: [SegmentTimelineEntry(t: 0, d: 76800, r: 1)])
        var set = AdaptationSet(id: 0, contentType: "video", mimeType: "video/mp4", representations: [video])
        set.segmentAlignment = true
        set.startWithSAP = 1
        var audio = Representation(id: "a1", bandwidth: 96_000)
        audio.audioChannelConfigurations = [.channels(2)]
        audio.baseURL = "a1/a1.mp4"
        audio.segmentBase = SegmentBase(timescale: 48000, indexRange: "700-763", initializationRange: "0-699")
        var audioSet = AdaptationSet(id: 1, contentType: "audio", mimeType: "audio/mp4", representations: [audio])
        audioSet.lang = "eng"
        audioSet.roles = [.role("main")]
        var mpd = MPD(profiles: [MPD.liveProfile], minBufferTime: seconds(2000),
                      periods: [Period(id: "0", start: seconds(0), adaptationSets: [set, audioSet])])
        mpd.mediaPresentationDuration = seconds(12000)
        let bytes = try MPDWriter.write(mpd)
        #expect(try XMLSchema(path: schemaPath).validate(bytes) == [])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#"<S t="0" d="76800" r="1"/>"#))
        // Schema order inside AdaptationSet: Role before Representation.
        let role = text.range(of: "<Role")!.lowerBound, representation = text.range(of: #"<Representation id="a1""#)!.lowerBound
        #expect(role < representation)
        // And an MPD missing minBufferTime is reported.
        let broken = Array(text.replacingOccurrences(of: #" minBufferTime="PT2S""#, with: "").utf8)
        #expect(try !XMLSchema(path: schemaPath).validate(broken).isEmpty)
    }
}
