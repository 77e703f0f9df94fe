import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// The origin's configuration (YAML, channels, keys, ladders) and Range headers: no server.
@Suite(.tags(.unit)) struct OriginConfigurationTests {
    @Test func channelEncryptionIsReadWithThePackagerRules() throws {
        let configuration = try OriginConfiguration.load(yaml: """
            channels:
              news:
                input: x.mp4
                encryption:
                  scheme: cbcs
                  keys: [video=00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0,
                         audio=11112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0]
                  drm: [widevine, playready]
                  license-url: https://license.example.com/
            """, file: "k.yaml")
        let encryption = try #require(configuration.channels["news"]?.encryption)
        #expect(encryption.scheme == .cbcs && encryption.videoKey?.keyIDHex == "00112233445566778899aabbccddeeff")
        #expect(encryption.audioKey?.keyIDHex == "11112233445566778899aabbccddeeff")
        #expect(encryption.drmSystems == [.widevine, .playready] && encryption.licenseURLs[nil] == "https://license.example.com/")
        func refusal(_ settings: String, formats: String = "hls, dash") -> String? {
            let yaml = "channels:\n  news:\n    input: x.mp4\n    formats: \(formats)\n    encryption:\n" + settings.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n")
            do { _ = try OriginConfiguration.load(yaml: yaml, file: "k.yaml"); return nil } catch let error as OriginError { return error.oneLine } catch { return "\(error)" }
        }
        let key = "key: 00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        #expect(refusal(key) == "k.yaml: channels.news.encryption.scheme: is required: cenc or cbcs")
        #expect(refusal("scheme: cbcs\n\(key)") == "k.yaml: channels.news.encryption: HLS players get no key: set key-uri (a live origin publishes no key files) or drm widevine, playready or fairplay")
        #expect(refusal("scheme: cbcs\n\(key)\ndrm: fairplay", formats: "hls, hls-ts") == "k.yaml: channels.news.encryption: MPEG-TS variants (formats: hls-ts) of a live channel cannot be encrypted yet")
        #expect(refusal("scheme: cenc\n\(key)\ndrm: fairplay")?.contains("FairPlay needs --encrypt cbcs") == true)
        #expect(refusal("scheme: cbcs\nkey: 0011:22") == "k.yaml: channels.news.encryption: channels.news.encryption.key: the key ID is not 32 hex digits")
        #expect(refusal("scheme: cbcs\n\(key)\nrotate: 5")?.contains("unknown key") == true)
        #expect(refusal("scheme: cbcs\n\(key)\ndrm: widevine", formats: "dash, hls") == nil)
        // Key rotation: a key per period of `rotation` segments, derived from the root key.
        let rotating = try OriginConfiguration.load(yaml: """
            channels:
              news:
                input: x.mp4
                segment-duration: 2
                encryption: {scheme: cenc, rotation: 5, root-key: 000102030405060708090a0b0c0d0e0f, drm: widevine}
            """, file: "k.yaml")
        let rotation = try #require(rotating.channels["news"]?.encryption?.rotation)
        #expect(rotation.segmentsPerPeriod == 5 && rotation.segmentDuration == MediaTime(value: 2000, timescale: 1000))
        let lowLatency = #expect(throws: OriginError.self) {
            try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    segment-duration: 2\n    part-duration: 0.5\n    encryption: {scheme: cbcs, rotation: 5, root-key: 000102030405060708090a0b0c0d0e0f, drm: widevine}\n", file: "k.yaml")
        }
        #expect(refusal("scheme: cbcs\nrotation: 5\nroot-key: 000102030405060708090a0b0c0d0e0f\nkey-uri: https://keys.example/k")
                == "k.yaml: channels.news.encryption: key-uri must hold {kid} under key rotation: each period's key has its own URI")
        #expect(lowLatency?.oneLine == "k.yaml: channels.a.encryption: key rotation cannot be combined with part-duration (LL-HLS) yet")
        #expect(refusal("scheme: cbcs\nrotation: 5\ndrm: widevine") == "k.yaml: channels.news.encryption: rotation and root-key go together (the period keys are derived from the root key)")
        #expect(refusal("scheme: cbcs\nrotation: 0\nroot-key: 000102030405060708090a0b0c0d0e0f\ndrm: widevine")?.contains("must be a whole number") == true)
        #expect(refusal("scheme: cbcs\n\(key)\nrotation: 5\nroot-key: 000102030405060708090a0b0c0d0e0f\ndrm: widevine")?.contains("give no key") == true)
    }

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

        let timelines = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    timeline: unix\n  b:\n    input: y.mp4\n", file: "k.yaml")
        #expect(timelines.channels["a"]?.timeline == .unix && timelines.channels["b"]?.effectiveTimeline == .channelStart)
        let encrypted = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    encryption: {scheme: cenc, key: \(String(repeating: "1", count: 32)):\(String(repeating: "2", count: 32)), drm: [widevine]}\n", file: "k.yaml")
        #expect(encrypted.channels["a"]?.effectiveTimeline == .unix)
        let repeating = #expect(throws: OriginError.self) {
            try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    timeline: channel-start\n    encryption: {scheme: cenc, key: \(String(repeating: "1", count: 32)):\(String(repeating: "2", count: 32)), drm: [widevine]}\n", file: "k.yaml")
        }
        #expect(repeating?.oneLine.contains("would repeat IVs and keys") == true)
        let timeline = #expect(throws: OriginError.self) {
            try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: x.mp4\n    timeline: gps\n", file: "k.yaml")
        }
        #expect(timeline?.oneLine == "k.yaml: channels.a.timeline: is channel-start or unix (gps given)")
    }

    /// Push channel keys: required for `input: rtmp`, refused elsewhere, and not too weak.
    /// `tls:`: the chain and key files, an optional listener beside `listen:`; what is missing,
    /// unknown or not host:port is refused with the key named.
    @Test func tlsSettingsAreRead() throws {
        let beside = try OriginConfiguration.load(yaml: "tls:\n  certificate: /etc/kerf/chain.pem\n  key: /etc/kerf/key.pem\n  listen: 0.0.0.0:8443\n",
                                                  file: "k.yaml")
        #expect(beside.tls == .init(certificateChain: "/etc/kerf/chain.pem", privateKey: "/etc/kerf/key.pem", listen: "0.0.0.0:8443"))
        let address = try #require(try beside.tlsListenAddress())
        #expect(!beside.listenIsSecure && address.host == "0.0.0.0" && address.port == 8443)
        let only = try OriginConfiguration.load(yaml: "tls:\n  certificate: c.pem\n  key: k.pem\n", file: "k.yaml")
        let none = try only.tlsListenAddress()
        #expect(only.listenIsSecure && none == nil)
        #expect(!OriginConfiguration().listenIsSecure)
        func refusal(_ yaml: String) -> String? {
            do { _ = try OriginConfiguration.load(yaml: yaml, file: "k.yaml"); return nil } catch let error as OriginError { return error.oneLine } catch { return "\(error)" }
        }
        #expect(refusal("tls:\n  key: k.pem\n") == "k.yaml: tls.certificate: is required (the PEM certificate chain)")
        #expect(refusal("tls:\n  certificate: c.pem\n") == "k.yaml: tls.key: is required (the PEM private key)")
        #expect(refusal("tls:\n  certificate: c.pem\n  key: k.pem\n  port: 8443\n") == "k.yaml: tls.port: unknown key (known: certificate, key, listen)")
        #expect(refusal("tls:\n  certificate: c.pem\n  key: k.pem\n  listen: 8443\n")?.contains("8443 is not host:port") == true)
        #expect(refusal("tls: yes\n") == "k.yaml: tls: must be a mapping (certificate, key, listen)")
    }

    /// `listen-backlog` sets each listening socket's queue; out of range or not a number, it is
    /// refused with the key named.
    @Test func listenBacklogIsReadAndBounded() throws {
        #expect(OriginConfiguration().listenBacklog == 4096)
        #expect(try OriginConfiguration.load(yaml: "listen-backlog: 65535\n", file: "k.yaml").listenBacklog == 65_535)
        #expect(try OriginConfiguration.load(yaml: "listen-backlog: 16\n", file: "k.yaml").listenBacklog == 16)
        for bad in ["0", "65536", "lots"] {
            let error = #expect(throws: OriginError.self) { try OriginConfiguration.load(yaml: "listen-backlog: \(bad)\n", file: "k.yaml") }
            #expect(error?.oneLine == "k.yaml: listen-backlog: must be a whole number from 1 to 65535")
        }
    }

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

    @Test func channelAdMarkersAreReadLikeThePackagersOption() throws {
        let both = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    ad-markers: [daterange, cue]\n",
                                                file: "k.yaml")
        #expect(both.channels["a"]?.adMarkers == [.dateRange, .cue])
        let cue = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    ad-markers: cue\n", file: "k.yaml")
        #expect(cue.channels["a"]?.adMarkers == [.cue])
        let error = #expect(throws: OriginError.self) {
            try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    ad-markers: scte\n", file: "k.yaml")
        }
        #expect(error?.oneLine == "k.yaml: channels.a.ad-markers: lists daterange, cue (scte given)")
        let labelled = try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    captions: CC1=eng:English,SERVICE1=spa\n    dash-events: [period, inband]\n    ad-periods: true\n", file: "k.yaml")
        #expect(labelled.channels["a"]?.captions == ["CC1": .init(language: "eng", name: "English"), "SERVICE1": .init(language: "spa")])
        #expect(labelled.channels["a"]?.dashEvents == [.period, .inband] && labelled.channels["a"]?.adPeriods == true)
        for (setting, message) in [("captions: CC9=eng", "k.yaml: channels.a.captions: bad captions 'CC9=eng': use CC1..CC4 or SERVICE1..SERVICE63 = language[:name], e.g. CC1=eng:English"),
                                   ("dash-events: inline", "k.yaml: channels.a.dash-events: lists period, inband (inline given)"),
                                   ("ad-periods: sometimes", "k.yaml: channels.a.ad-periods: must be true or false")] {
            let problem = #expect(throws: OriginError.self) {
                try OriginConfiguration.load(yaml: "channels:\n  a:\n    input: udp://127.0.0.1:9\n    \(setting)\n", file: "k.yaml")
            }
            #expect(problem?.oneLine == message)
        }
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
