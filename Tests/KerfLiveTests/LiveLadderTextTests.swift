import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import NIOCore
import Testing
@testable import KerfLive

/// A ladder channel keeps the input's subtitles: the transcoder passes the text stream through
/// and the channel publishes it as WebVTT segments cut where the re-encoded video's are.
@Suite(.tags(.integration)) struct LiveLadderTextTests {
    @Test func aLadderChannelKeepsItsSubtitles() throws {
        var configuration = ChannelConfiguration(input: Fixtures.path("two_languages_subs.mp4"), segmentDuration: 2, window: 60)
        configuration.ladder = try .parse("180p:150k")
        let window = try ClockedChannelTests.run(configuration, ManualClock(1_800_000_000), seconds: 30) { window in
            (window.presentation.tracks["text_eng"]?.segments.count ?? 0) >= 3
        }
        let text = try #require(window.presentation.tracks["text_eng"], "no text rendition: \(window.presentation.order)")
        let video = try #require(window.presentation.tracks["video_180p"])
        #expect(text.segments.count >= 3)
        for segment in text.segments.prefix(3) {
            #expect(video.segments.contains { $0.start == segment.start && $0.duration == segment.duration }, "\(segment.start.seconds)")
        }
        let cues = text.segments.prefix(3).compactMap { segment -> String? in
            window.stored[segment.uri]?.body.map { String(buffer: $0) }
        }
        #expect(cues.count == 3 && cues.allSatisfy { $0.hasPrefix("WEBVTT") })
        #expect(cues.joined().contains("-->"), "\(cues)")
        let master = String(buffer: try #require(window.documents["master.m3u8"]).body)
        #expect(master.contains(#"SUBTITLES="subs""#), "\(master)")
    }
}
