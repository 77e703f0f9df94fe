import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

extension LiveTests {
    /// LL-HLS over HTTP/2, as players use it: a blocking playlist reload and the preload-hinted
    /// part requested together on one TLS connection (curl multiplexes them) are both held
    /// until the part exists, then answered: the playlist lists the part, the part has its bytes.
    @Test func lowLatencyRequestsAreHeldOnOneHTTP2Connection() async throws {
        let certificates = try await TestCertificates.make()
        let port = try Live.port()
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        configuration.channels["news"] = .init(input: Live.listening(port), segmentDuration: 1, window: 20)
        configuration.channels["news"]?.partDuration = 0.25
        configuration.tls = try await certificates.server("localhost")
        configuration.tls?.listen = "127.0.0.1:0"
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let feed = try await Live.feed(to: port)
        defer { feed.stop() }
        try await Live.waitForPlaylist(origin, segments: 3)
        let secure = "https://localhost:\(try #require(origin.securePort))/live/news/video_180p/"
        let folder = try Fixtures.temporaryDirectory("kerf-h2-held")

        var answered = false
        for _ in 0..<5 where !answered {
            // The hinted part and the (media sequence, part) it will have.
            let playlist = String(decoding: try await curl([origin.base + "/live/news/video_180p/playlist.m3u8"]).body, as: UTF8.self)
            let lines = playlist.split(separator: "\n")
            let sequence = try #require(lines.first { $0.hasPrefix("#EXT-X-MEDIA-SEQUENCE:") }.flatMap { Int($0.dropFirst(22)) })
            let lastSegment = try #require(lines.lastIndex { $0.hasPrefix("seg_") })
            let trailingParts = lines[lastSegment...].filter { $0.hasPrefix("#EXT-X-PART:") }.count
            let hint = try #require(lines.last { $0.hasPrefix("#EXT-X-PRELOAD-HINT") }?.split(separator: "\"").dropFirst().first.map(String.init))
            guard hint.hasSuffix("_\(trailingParts).m4s") else { continue }
            let msn = sequence + lines.filter { $0.hasPrefix("seg_") }.count
            let result = try await Command.runDetached("curl", [
                "-s", "--http2", "--parallel", "--cacert", certificates.root, "--max-time", "20",
                "-w", "%{http_version} %{num_connects} %{http_code}\n",
                "-o", folder.appendingPathComponent("playlist").path, secure + "playlist.m3u8?_HLS_msn=\(msn)&_HLS_part=\(trailingParts)",
                "-o", folder.appendingPathComponent("part").path, secure + hint,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let transfers = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            try #require(transfers.count == 2, "\(result.stdout)")
            // Both over HTTP/2, one connection opened for the two.
            #expect(transfers.allSatisfy { $0[0] == "2" } && transfers.map { Int($0[1]) ?? -1 }.reduce(0, +) == 1, "\(result.stdout)")
            // The segment may end before the hinted part is made: then the hint is a 404 and
            // the next one is tried.
            guard transfers.allSatisfy({ $0[2] == "200" }) else { continue }
            let held = try String(contentsOf: folder.appendingPathComponent("playlist"), encoding: .utf8)
            #expect(held.split(separator: "\n").contains { $0.hasPrefix("#EXT-X-PART:") && $0.contains(hint + "\"") }, "\(held)")
            let part = try Data(contentsOf: folder.appendingPathComponent("part"))
            #expect(part.count > 100)
            #expect(try await curl([origin.base + "/live/news/video_180p/" + hint]).body == part)
            answered = true
        }
        #expect(answered)
    }
}
