import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// The origin's configuration (YAML, channels, keys, ladders) and Range headers: no server.
@Suite(.tags(.unit)) struct OriginConfigurationTests {
    @Test func configurationIsReadFromYAML() throws {
        let configuration = try OriginConfiguration.load(yaml: """
            root: out
            listen: 127.0.0.1:8080
            vod-manifest-max-age: 60
            channels:
              news:
                input: udp://127.0.0.1:9000
                segment-duration: 2
                window: 60
            """, file: "kerf.yaml")
        #expect(configuration.root == "out")
        #expect(configuration.vodManifestMaxAge == 60)
        #expect(configuration.channels["news"] == OriginConfiguration.Channel(input: "udp://127.0.0.1:9000", segmentDuration: 2, window: 60))
        #expect(try OriginConfiguration.load(yaml: "", file: "empty.yaml") == OriginConfiguration())
        #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: "rot: out", file: "k.yaml") }
        let bad = #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: "vod-manifest-max-age: soon", file: "k.yaml") }
        #expect(bad?.oneLine == "k.yaml: vod-manifest-max-age: must be a whole number from 0 to 31536000")
        #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: "channels:\n  a:\n    window: 3", file: "k.yaml") }
        #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: "[1, 2", file: "k.yaml") }
        let formats = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    formats: hls, hls-ts", file: "k.yaml")
        #expect(formats.channels["a"]?.formats == [.hls, .hlsTS])
        let listed = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    formats: [dash]", file: "k.yaml")
        #expect(listed.channels["a"]?.formats == [.dash])
        let wrong = #expect(throws: OriginError.self) {
            try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    formats: hls,smooth", file: "k.yaml")
        }
        #expect(wrong?.oneLine == "k.yaml: channels.a.formats: lists hls, dash and hls-ts (hls,smooth given)")
        let epochs = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    epoch: 2026-01-01T00:00:00Z\n  b:\n    input: y.mp4\n    epoch: 1767225600\n",
                                                  file: "k.yaml")
        #expect(epochs.channels["a"]?.epoch == 1_767_225_600 && epochs.channels["b"]?.epoch == 1_767_225_600)
        #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    epoch: yesterday\n", file: "k.yaml") }
    }

    /// Push channel keys: required for `input: rtmp`, refused elsewhere, and not too weak.
    @Test func pushChannelKeysAreChecked() throws {
        for (yaml, expected) in [
            ("channels:\n  a:\n    input: rtmp\n", "k.yaml: channels.a.key: is required for a push channel (input: rtmp)"),
            ("channels:\n  a:\n    input: udp://127.0.0.1:9\n    key: long-enough-key\n", "k.yaml: channels.a.key: is for push channels only (input: rtmp)"),
            ("channels:\n  a:\n    input: rtmp\n    key: short\n", "k.yaml: channels.a.key: must be at least 8 printable characters, without spaces or &"),
        ] {
            let error = #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: yaml, file: "k.yaml") }
            #expect(error?.oneLine == expected)
        }
        let push = try OriginConfiguration.load(yaml: "rtmp-listen: 127.0.0.1:1936\nchannels:\n  a:\n    input: rtmp\n    key: long-enough-key\n",
                                                file: "k.yaml")
        #expect(push.channels["a"]?.key == "long-enough-key")
        #expect(try push.rtmpAddress() == ("127.0.0.1", 1936))
        #expect(try OriginConfiguration().rtmpAddress() == ("127.0.0.1", 1935))
    }

    @Test func channelLaddersAreReadLikeThePackagersOption() throws {
        let configuration = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    segment-duration: 2\n    ladder: 720p:3000k,360p:800k\n",
                                                         file: "k.yaml")
        #expect(configuration.channels["a"]?.ladder?.rungs.map(\.height) == [720, 360])
        let error = #expect(throws: OriginError.self) {
            try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    ladder: 720p\n", file: "k.yaml")
        }
        #expect(error?.oneLine.hasPrefix("k.yaml: channels.a.ladder: --ladder rung 1 ('720p') must be resolution:bitrate") == true,
                "\(error?.oneLine ?? "")")
    }

    @Test func rangeHeadersFollowRFC9110() {
        #expect(RangeRequest(nil, size: 100) == .whole)
        #expect(RangeRequest("bytes=0-9", size: 100) == .part(0...9))
        #expect(RangeRequest("bytes=90-", size: 100) == .part(90...99))
        #expect(RangeRequest("bytes=90-200", size: 100) == .part(90...99))
        #expect(RangeRequest("bytes=-5", size: 100) == .part(95...99))
        #expect(RangeRequest("bytes=-500", size: 100) == .part(0...99))
        #expect(RangeRequest("bytes=100-", size: 100) == .unsatisfiable)
        #expect(RangeRequest("bytes=-0", size: 100) == .unsatisfiable)
        #expect(RangeRequest("bytes=9-1", size: 100) == .whole)
        #expect(RangeRequest("bytes=0-1,5-6", size: 100) == .whole)
        #expect(RangeRequest("items=0-1", size: 100) == .whole)
        #expect(RangeRequest("bytes=99999999999999999999-", size: 100) == .whole)
        #expect(RangeRequest("bytes=x-1", size: 100) == .whole)
    }
}
