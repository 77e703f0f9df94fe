import Foundation
import KerfCore
import KerfTestSupport
import KerfXML
import Testing
@testable import KerfManifest
import KerfTestTags

/// The DASH schema kept with the tests (Tests/Conformance/dash).
private func dashSchemaPath() -> String { Fixtures.dashSchema }

@Suite(.tags(.unit)) struct SegmentTimelineTests {
    @Test func compressesRunsOfEqualDurations() {
        let entries = SegmentTimelineEntry.compress([
            (0, 76_800), (76_800, 76_800), (153_600, 76_800), (230_400, 40_960),
        ])
        #expect(entries == [
            SegmentTimelineEntry(t: 0, d: 76_800, r: 2),
            SegmentTimelineEntry(t: nil, d: 40_960, r: 0),
        ])
    }

    @Test func aGapOrOverlapStartsANewEntryWithT() {
        let gap = SegmentTimelineEntry.compress([(0, 100), (100, 100), (250, 100), (350, 100), (450, 50)])
        #expect(gap == [
            SegmentTimelineEntry(t: 0, d: 100, r: 1),
            SegmentTimelineEntry(t: 250, d: 100, r: 1),
            SegmentTimelineEntry(t: nil, d: 50),
        ])
        let overlap = SegmentTimelineEntry.compress([(0, 100), (90, 100)])
        #expect(overlap == [SegmentTimelineEntry(t: 0, d: 100), SegmentTimelineEntry(t: 90, d: 100)])
    }

    @Test func firstEntryAlwaysHasT() {
        #expect(SegmentTimelineEntry.compress([(1024, 96_256)]) == [SegmentTimelineEntry(t: 1024, d: 96_256)])
        #expect(SegmentTimelineEntry.compress([]) == [])
    }

    @Test func alternatingDurationsDoNotMerge() {
        let entries = SegmentTimelineEntry.compress([(0, 95_232), (95_232, 96_256), (191_488, 95_232)])
        #expect(entries.map(\.d) == [95_232, 96_256, 95_232])
        #expect(entries.map(\.t) == [0, nil, nil])
        #expect(entries.map(\.r) == [0, 0, 0])
    }
}

@Suite(.tags(.unit)) struct MPDWriterTests {
    @Test func formatsDurations() {
        #expect(MPDWriter.duration(MediaTime(value: 6, timescale: 1)) == "PT6S")
        #expect(MPDWriter.duration(MediaTime(value: 481_024, timescale: 48_000)) == "PT10.021S")
        #expect(MPDWriter.duration(MediaTime(value: 0, timescale: 1)) == "PT0S")
        #expect(MPDWriter.duration(MediaTime(value: 13, timescale: 2)) == "PT6.5S")
        #expect(MPDWriter.duration(MediaTime(value: 105, timescale: 100)) == "PT1.05S")
        #expect(MPDWriter.duration(MediaTime(value: 6006, timescale: 1000)) == "PT6.006S")
        #expect(MPDWriter.duration(MediaTime(value: 3_723, timescale: 1)) == "PT3723S")
        #expect(MPDWriter.duration(MediaTime(value: 9_999, timescale: 10_000)) == "PT1S")  // rounds to ms
    }

    static func liveProfileMPD() -> MPD {
        var template = SegmentTemplate(timescale: 12_800, initialization: "video_$RepresentationID$/init.mp4",
                                       media: "video_$RepresentationID$/seg_$Number$.m4s", startNumber: 1,
                                       timeline: SegmentTimelineEntry.compress([(0, 76_800), (76_800, 76_800), (153_600, 51_200)]))
        template.presentationTimeOffset = 0
        var video = AdaptationSet(id: 0, contentType: "video", mimeType: "video/mp4", representations: [])
        video.par = "16:9"
        video.maxWidth = 1280
        video.maxHeight = 720
        video.maxFrameRate = "25"
        video.segmentAlignment = true
        video.startWithSAP = 1
        video.segmentTemplate = template
        for (id, width, height, bandwidth) in [("360p", 640, 360, 800_000), ("720p", 1280, 720, 2_500_000)] {
            var r = Representation(id: id, bandwidth: bandwidth)
            r.codecs = "avc1.64001f"
            r.width = width
            r.height = height
            r.frameRate = "25"
            r.sar = "1:1"
            video.representations.append(r)
        }

        var audio = AdaptationSet(id: 1, contentType: "audio", mimeType: "audio/mp4", representations: [])
        audio.lang = "en"
        audio.segmentAlignment = true
        audio.audioChannelConfigurations = [.channels(2)]
        audio.roles = [.role("main")]
        var audioRepresentation = Representation(id: "audio_en", bandwidth: 128_000)
        audioRepresentation.codecs = "mp4a.40.2"
        audioRepresentation.audioSamplingRate = 48_000
        audioRepresentation.segmentTemplate = SegmentTemplate(
            timescale: 48_000, initialization: "audio/init.mp4", media: "audio/seg_$Number$.m4s", startNumber: 1,
            timeline: SegmentTimelineEntry.compress([(0, 288_768), (288_768, 287_744), (576_512, 193_536)]))
        audio.representations = [audioRepresentation]

        var onDemand = AdaptationSet(id: 2, contentType: "text", mimeType: "application/mp4", representations: [])
        onDemand.lang = "fr"
        onDemand.roles = [.role("subtitle")]
        var text = Representation(id: "subs_fr", bandwidth: 1_000)
        text.codecs = "wvtt"
        text.baseURL = "subs_fr.mp4"
        text.segmentBase = SegmentBase(timescale: 1000, indexRange: "812-875", initializationRange: "0-811")
        onDemand.representations = [text]

        var mpd = MPD(profiles: [MPD.liveProfile, MPD.cmafProfile], minBufferTime: MediaTime(value: 2, timescale: 1),
                      periods: [Period(id: "0", start: .zero(timescale: 1), adaptationSets: [video, audio, onDemand])])
        mpd.mediaPresentationDuration = MediaTime(value: 481_024, timescale: 48_000)
        mpd.maxSegmentDuration = MediaTime(value: 6, timescale: 1)
        return mpd
    }

    @Test func writesASmallMPDExactly() throws {
        var representation = Representation(id: "a", bandwidth: 64_000)
        representation.codecs = "mp4a.40.2"
        representation.audioSamplingRate = 48_000
        representation.audioChannelConfigurations = [.channels(1)]
        var set = AdaptationSet(id: nil, contentType: "audio", mimeType: "audio/mp4", representations: [representation])
        set.segmentTemplate = SegmentTemplate(timescale: 48_000, initialization: "init.mp4", media: "$Number$.m4s",
                                              startNumber: 0, timeline: [SegmentTimelineEntry(t: 0, d: 96_256, r: 1)])
        var mpd = MPD(profiles: [MPD.liveProfile], minBufferTime: MediaTime(value: 4, timescale: 1),
                      periods: [Period(id: "p0", adaptationSets: [set])])
        mpd.mediaPresentationDuration = MediaTime(value: 192_512, timescale: 48_000)
        let text = String(decoding: try MPDWriter.write(mpd), as: UTF8.self)
        #expect(text == """
            <?xml version="1.0" encoding="UTF-8"?>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" \
            type="static" mediaPresentationDuration="PT4.011S" minBufferTime="PT4S">
              <Period id="p0">
                <AdaptationSet contentType="audio" mimeType="audio/mp4">
                  <SegmentTemplate timescale="48000" initialization="init.mp4" media="$Number$.m4s" startNumber="0">
                    <SegmentTimeline>
                      <S t="0" d="96256" r="1"/>
                    </SegmentTimeline>
                  </SegmentTemplate>
                  <Representation id="a" bandwidth="64000" codecs="mp4a.40.2" audioSamplingRate="48000">
                    <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1"/>
                  </Representation>
                </AdaptationSet>
              </Period>
            </MPD>

            """)
    }

    @Test func elementOrderFollowsTheSchema() throws {
        let mpd = MPDWriterTests.liveProfileMPD()
        let root = MPDWriter.element(mpd)
        #expect(root.attributes.map(\.name) == ["profiles", "type", "mediaPresentationDuration", "maxSegmentDuration", "minBufferTime"])
        #expect(root.attribute("profiles") == "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019")
        #expect(root.attribute("mediaPresentationDuration") == "PT10.021S")
        let period = root.children[0]
        #expect(period.attribute("start") == "PT0S")
        let audio = period.children[1]
        #expect(audio.children.map(\.name) == ["AudioChannelConfiguration", "Role", "Representation"])
        #expect(audio.children[1].attribute("value") == "main")
        let video = period.children[0]
        #expect(video.children.map(\.name) == ["SegmentTemplate", "Representation", "Representation"])
        #expect(video.attribute("segmentAlignment") == "true")
        #expect(video.attribute("subsegmentAlignment") == nil)
        let timeline = video.children[0].children[0]
        #expect(timeline.children.map { $0.attributes.map(\.name) } == [["t", "d", "r"], ["d"]])
        let textSet = period.children[2]
        #expect(textSet.children.map(\.name) == ["Role", "Representation"])
        let text = try #require(textSet.children.last)
        #expect(text.children.map(\.name) == ["BaseURL", "SegmentBase"])
        #expect(text.children[0].text == "subs_fr.mp4")
        #expect(text.children[1].attribute("indexRange") == "812-875")
        #expect(text.children[1].children[0].attribute("range") == "0-811")
    }

    @Test func serializedMPDValidatesAgainstTheDASHSchema() throws {
        let path = dashSchemaPath()
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("DASH schema not found at \(path)")
            return
        }
        let schema = try XMLSchema(path: path)
        let bytes = try MPDWriter.write(MPDWriterTests.liveProfileMPD())
        #expect(try schema.validate(bytes, name: "live.mpd") == [])

        // The same check rejects a model the schema does not allow (an S without d is impossible
        // to build, so break the document instead: a negative bandwidth).
        var broken = MPDWriterTests.liveProfileMPD()
        broken.periods[0].adaptationSets[0].representations[0].bandwidth = -1
        let violations = try schema.validate(try MPDWriter.write(broken), name: "broken.mpd")
        #expect(violations.count == 1)
        #expect(violations.first?.contains("bandwidth") == true)
    }
}
