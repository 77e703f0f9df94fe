import Foundation
import Hummingbird
import HummingbirdTesting
import KerfTestSupport
import KerfTestTags
import Logging
import Testing
@testable import KerfOrigin

/// The operator page, in-process: channels that have not started (their state, the input
/// without its credentials, the preview), packages with their renditions and duration, and the
/// part the page refreshes on its own.
@Suite(.tags(.unit)) struct StatusPageTests {
    @Test func pageShowsChannelsPreviewsAndPackages() async throws {
        let root = try Fixtures.temporaryDirectory("kerf-status-page")
        defer { try? FileManager.default.removeItem(at: root) }
        let package = root.appendingPathComponent("title")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try """
            <MPD mediaPresentationDuration="PT1M5.200S"><Period><AdaptationSet>
            <Representation id="video_720p" bandwidth="2400000"/><Representation id="video_360p" bandwidth="800000"/>
            </AdaptationSet></Period></MPD>
            """.write(to: package.appendingPathComponent("manifest.mpd"), atomically: true, encoding: .utf8)
        try "#EXTM3U\n".write(to: package.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
        var configuration = OriginConfiguration()
        configuration.root = root.path
        configuration.channels["news"] = .init(input: "srt://operator:secret@encoder.example:9000?passphrase=hunter2hunter2", segmentDuration: 2)
        configuration.channels["studio"] = .init(input: "rtmp", segmentDuration: 2)
        configuration.channels["studio"]?.key = "a-long-stream-key"
        let server = try OriginServer(configuration: configuration, logger: Logger(label: "test"))
        // libav's error messages start with the URL they failed on.
        server.channels["news"]?.statistics.withLock {
            $0.lastError = "srt://operator:secret@encoder.example:9000?passphrase=hunter2hunter2: avformat_open_input: Connection refused"
        }
        try await Application(router: server.makeRouter()).test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
            #expect(page.contains("<td>news</td><td><span class=\"down\">waiting for input</span>"))
            #expect(page.contains("<td>studio</td><td><span class=\"down\">waiting for a publisher</span>"))
            #expect(page.contains("<td>srt://encoder.example:9000 (credentials hidden)</td>"))
            #expect(page.contains("waiting for input</span>: srt://encoder.example:9000 (credentials hidden): avformat_open_input: Connection refused"))
            #expect(OriginServer.redacted("rtmp://ingest.example/live/a-secret-key") == "rtmp://ingest.example (credentials hidden)")
            #expect(OriginServer.redacted("srt://[bad") == "srt://… (hidden)")
            #expect(!page.contains("secret") && !page.contains("hunter2") && !page.contains("a-long-stream-key"))
            #expect(page.contains("data-src=\"/live/news/master.m3u8\""))
            #expect(page.contains("<td>title</td><td>65.2 s</td><td>video_720p 2.40 Mbit/s<br>video_360p 800 kbit/s</td>"))
            #expect(page.contains("<a href=\"/vod/title/manifest.mpd\">manifest.mpd</a>"))
            #expect(page.contains("fetch('/?part=live'"))
            let part = try await client.execute(uri: "/?part=live", method: .get) { String(buffer: $0.body) }
            #expect(part.hasPrefix("<table>") && part.contains("<td>news</td>") && !part.contains("<html"))
        }
    }
}
