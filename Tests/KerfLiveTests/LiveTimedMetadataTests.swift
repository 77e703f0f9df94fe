import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import NIOCore
import Testing
@testable import KerfLive

/// Timed ID3 in a live input (Fixtures/id3_h264_aac.ts, looped on a `ManualClock`: tags at 0,
/// 2.5 and 6 s after its first keyframe): each tag goes into the CMAF video segment it falls in
/// as an emsg at its channel time, and into the MPEG-TS variant as it came; the MPD declares
/// the ID3 scheme.
@Suite(.tags(.unit)) struct LiveTimedMetadataTests {
    @Test func tagsOfALiveInputGoIntoItsSegments() throws {
        var configuration = ChannelConfiguration(input: Fixtures.path("id3_h264_aac.ts"), segmentDuration: 2, window: 60)
        configuration.formats = [.hls, .dash, .hlsTS]
        let window = try ClockedChannelTests.run(configuration, ManualClock(1_800_000_000), seconds: 30) { window in
            (window.presentation.tracks["video_360p"]?.segments.count ?? 0) >= 8
        }
        let epoch = try #require(window.epochs.first).start
        let segments = try #require(window.presentation.tracks["video_360p"]).segments
        var found: [(seconds: Double, data: [UInt8])] = []
        for segment in segments {
            let body = try #require(window.stored[segment.uri]?.body)
            for message in EventMessageBox.read(Array(body.readableBytesView)) {
                #expect(message.scheme == "https://aomedia.org/emsg/ID3" && message.duration == nil)
                // In the segment its time falls in.
                #expect(message.seconds >= segment.start.seconds - 0.001 && message.seconds < (segment.start + segment.duration).seconds)
                found.append(((message.seconds - epoch.seconds), message.data))
            }
        }
        // The first pass's three tags, then the second pass's, one loop (about 10 s) later.
        try #require(found.count >= 4, "\(found.map(\.seconds))")
        let offsets = found.map { ($0.seconds * 1000).rounded() / 1000 }
        #expect(Array(offsets.prefix(3)) == [0, 2.5, 6], "\(offsets)")
        #expect(abs(offsets[3] - 10) < 0.1, "\(offsets)")
        #expect(found.allSatisfy { $0.data.starts(with: Array("ID3".utf8) + [4]) })
        #expect(String(decoding: found[1].data, as: UTF8.self).hasSuffix("second tag"))

        let mpd = try #require(window.mpd)
        #expect((mpd.head + mpd.tail).components(separatedBy: "<InbandEventStream schemeIdUri=\"https://aomedia.org/emsg/ID3\"/>").count == 2)
        // The MPEG-TS variant's first segment: the first tag as a PES of private stream 1.
        let first = try #require(window.presentation.tracks["ts_video_360p"]?.segments.first)
        let ts = Array(try #require(window.stored[first.uri]?.body).readableBytesView)
        let tag = Array("ID3".utf8) + [4]
        let at = try #require((0..<(ts.count - tag.count)).first { ts[$0..<($0 + tag.count)].elementsEqual(tag) }, "no ID3 tag in \(first.uri)")
        #expect(String(decoding: ts[at..<min(at + 40, ts.count)], as: UTF8.self).contains("first tag"))
    }
}
