import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// 1,000 clients reading a 1 MB segment at about 10 kB/s from `kerf serve` (a process of its
/// own, so its memory can be read): every one gets its answer, the origin's resident memory
/// stays bounded, and other clients' requests are answered about as fast as without them
/// (`Tests/Scripts/slow_clients.py` drives both and reports the figures).
@Suite(.serialized, .tags(.realtime)) struct SlowClientTests {
    struct Figures: Decodable {
        var unloadedP50: Double, unloadedP99: Double, loadedP50: Double, loadedP99: Double
        var answered: Int, errors: Int, lastError: String?
        var slowBytes: Int, rssBefore: Int, rssPeak: Int, rssAfter: Int

        enum CodingKeys: String, CodingKey {
            case unloadedP50 = "unloaded_p50_ms", unloadedP99 = "unloaded_p99_ms", loadedP50 = "loaded_p50_ms", loadedP99 = "loaded_p99_ms"
            case answered, errors, lastError = "last_error", slowBytes = "slow_bytes"
            case rssBefore = "rss_before_kib", rssPeak = "rss_peak_kib", rssAfter = "rss_after_kib"
        }
    }

    @Test func thousandSlowReadersStayBoundedAndOthersAreAnswered() async throws {
        let directory = try Fixtures.temporaryDirectory("kerf-slow-clients")
        defer { try? FileManager.default.removeItem(at: directory) }
        let package = directory.appendingPathComponent("root/pkg")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        var generator = SplitMix(seed: 7)
        try Data((0..<1_048_576).map { _ in UInt8(truncatingIfNeeded: generator.next()) }).write(to: package.appendingPathComponent("seg_1.m4s"))
        try "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg_1.m4s\n#EXT-X-ENDLIST\n".write(to: package.appendingPathComponent("playlist.m3u8"),
                                                                                           atomically: true, encoding: .utf8)
        let port = try freePort()
        let configuration = directory.appendingPathComponent("kerf.yaml")
        try "root: \(directory.appendingPathComponent("root").path)\nlisten: 127.0.0.1:\(port)\n".write(to: configuration, atomically: true, encoding: .utf8)
        let server = try BackgroundProcess(Fixtures.kerf, ["serve", "--config", configuration.path])
        defer { server.stop() }
        try await waitUntil("kerf serve to answer", timeout: .seconds(30), poll: .milliseconds(100)) {
            (try? await Command.runDetached("curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/healthz"]))?.status == 0
        }
        let script = Fixtures.root.appendingPathComponent("Tests/Scripts/slow_clients.py").path
        let run = try await Command.runDetached("python3", [script, "127.0.0.1", String(port), "/vod/pkg/seg_1.m4s", "/vod/pkg/playlist.m3u8",
                                                            "1000", String(server.process.processIdentifier), "5"])
        try #require(run.status == 0, "\(run.stderr)")
        let figures = try JSONDecoder().decode(Figures.self, from: Data(run.stdout.utf8))
        print("slow clients: \(run.stdout)")
        #expect(figures.answered == 1000 && figures.errors == 0, "\(figures.answered) answered 200, \(figures.errors) errors: \(figures.lastError ?? "")")
        // They kept reading the bodies at their pace: about 1 kB per 0.1 s each for 5 s or more.
        #expect(figures.slowBytes > 1000 * 20_000, "the slow clients read \(figures.slowBytes) bytes")
        // Bounded: the 1 MB body is shared, not copied per connection (1,000 copies would be 1 GB).
        #expect(figures.rssPeak - figures.rssBefore < 100 * 1024, "resident memory grew by \(figures.rssPeak - figures.rssBefore) KiB")
        // Other clients: p99 within twice the unloaded one (10 ms of slack for a busy machine).
        #expect(figures.loadedP99 <= max(2 * figures.unloadedP99, figures.unloadedP99 + 10),
                "p99 \(figures.loadedP99) ms with the slow readers, \(figures.unloadedP99) ms without")
    }
}
