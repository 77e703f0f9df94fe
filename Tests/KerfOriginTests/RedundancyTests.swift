import Foundation
import KerfCore
import KerfCrypto
import KerfPackager
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

extension LiveTests {
    /// Redundancy: two origins with the same `epoch:` fed the same stream (relayed to both over
    /// TCP: byte-identical output needs identical, lossless input), the second
    /// joining 2.5 s later, publish the same segment URIs, media sequence and init segment
    /// names, and byte-identical segments under the same names; encrypted with `cenc` and key
    /// rotation too (the IVs follow decode times, the keys the timeline).
    @Test(arguments: [false, true]) func redundantOriginsPublishAlike(encrypted: Bool) async throws {
        let (portA, portB) = (try Live.port(), try Live.port())
        func configuration(_ port: Int) throws -> OriginConfiguration {
            var configuration = OriginConfiguration()
            configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
            configuration.channels["news"] = .init(input: Live.listening(port), segmentDuration: 1, window: 4)
            configuration.channels["news"]?.epoch = 1_795_000_000
            if encrypted {
                var encryption = CommonEncryption(scheme: .cenc)
                encryption.rotation = KeyRotation(rootKey: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"), segmentsPerPeriod: 2,
                                                  segmentDuration: MediaTime(value: 1, timescale: 1))
                encryption.drmSystems = [.common, .widevine]
                configuration.channels["news"]?.encryption = encryption
            }
            return configuration
        }
        let first = try await RunningOrigin(try configuration(portA))
        defer { Task { await first.stop() } }
        let feed = try await Live.feed(to: portA)
        defer { feed.stop() }
        // The second origin joins the stream 2.5 s after the first.
        try await Task.sleep(for: .milliseconds(2500))
        let second = try await RunningOrigin(try configuration(portB))
        defer { Task { await second.stop() } }
        try await feed.connect(port: portB)
        try await Live.waitForPlaylist(second, segments: 4)
        // Once the second origin's first (partial) segment has left its window, both list the same.
        let lines = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("#EXT-X-PROGRAM-DATE-TIME") } }
        try await waitUntil("the two origins' playlists listing the same segments", timeout: .seconds(40), poll: .milliseconds(150)) {
            let a = String(decoding: try await curl([first.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
            let b = String(decoding: try await curl([second.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
            return lines(a) == lines(b)
        }
        let playlist = String(decoding: try await curl([first.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
        let names = playlist.split(separator: "\n").filter { $0.hasPrefix("seg_") || $0.hasPrefix("#EXT-X-MAP") }
            .map { $0.hasPrefix("#EXT-X-MAP") ? String($0.split(separator: "\"")[1]) : String($0) }
        #expect(names.count >= 3)
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES-CTR") == encrypted)
        for name in names {
            let (a, b) = (try await curl([first.base + "/live/news/video_180p/" + name]), try await curl([second.base + "/live/news/video_180p/" + name]))
            #expect(a.status == 200 && b.status == 200, "\(name): \(a.status) \(b.status)")
            #expect(a.body == b.body, "\(name) differs between the origins")
            #expect(a.headers["etag"] == b.headers["etag"])
        }
    }
}
