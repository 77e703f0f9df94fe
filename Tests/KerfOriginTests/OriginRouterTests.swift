import Foundation
import Hummingbird
import HummingbirdTesting
import KerfTestSupport
import KerfTestTags
import Logging
import Testing
@testable import KerfOrigin

/// The origin's router in-process (Hummingbird's router test client): requests and responses
/// without a socket or an HTTP client process. What needs the socket path (the raw fast path,
/// limits, slowloris) or a real client is in `OriginTests`.
@Suite(.tags(.unit)) struct OriginRouterTests {
    /// A root with a hand-made package and, outside it, a file that must never be served;
    /// symbolic links inside the root lead out of it.
    static func makeRoot() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("kerf-router")
        try "secret".write(to: dir.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        let root = dir.appendingPathComponent("root")
        let package = root.appendingPathComponent("demo")
        try FileManager.default.createDirectory(at: package.appendingPathComponent("video_360p"), withIntermediateDirectories: true)
        try "#EXTM3U\n#EXT-X-VERSION:7\n".write(to: package.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
        try Data(repeating: 7, count: 1000).write(to: package.appendingPathComponent("video_360p/seg_1.m4s"))
        try FileManager.default.createSymbolicLink(atPath: package.appendingPathComponent("escape.txt").path,
                                                   withDestinationPath: dir.appendingPathComponent("secret.txt").path)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("up").path, withDestinationPath: dir.path)
        return root
    }

    /// The router of an origin serving `root`, in an application tested in-process.
    static func application(root: URL) throws -> some ApplicationProtocol {
        var configuration = OriginConfiguration()
        configuration.root = root.path
        let server = try OriginServer(configuration: configuration, logger: Logger(label: "test"))
        return Application(router: server.makeRouter())
    }

    /// At least 20 ways of climbing out of the root: none returns the file outside it.
    @Test func pathTraversalNeverLeavesTheRoot() async throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        let attempts = [
            "/vod/../secret.txt", "/vod/demo/../../secret.txt", "/vod/%2e%2e/secret.txt", "/vod/%2E%2E/secret.txt",
            "/vod/demo/%2e%2e/%2e%2e/secret.txt", "/vod/.%2e/secret.txt", "/vod/%2e./secret.txt", "/vod/..%2fsecret.txt",
            "/vod/..%2Fsecret.txt", "/vod/demo%2f..%2f..%2fsecret.txt", "/vod/..%5csecret.txt", "/vod/..\\secret.txt",
            "/vod/%252e%252e/secret.txt", "/vod/demo/escape.txt", "/vod/up/secret.txt", "/vod//../secret.txt",
            "/vod/./../secret.txt", "/vod/demo/..%00/secret.txt", "/vod/secret.txt%00.m3u8", "/vod/%c0%ae%c0%ae/secret.txt",
            "/vod/" + root.deletingLastPathComponent().path + "/secret.txt", "/vod/%2f" + root.deletingLastPathComponent().path.dropFirst() + "/secret.txt",
            "/vod/demo/.%2e/.%2e/secret.txt", "/vod/%2e%2e%2f%2e%2e%2fsecret.txt", "/../secret.txt", "/vod/demo/video_360p/../../../secret.txt",
        ]
        #expect(attempts.count >= 20)
        try await Self.application(root: root).test(.router) { client in
            for attempt in attempts {
                try await client.execute(uri: attempt, method: .get) { response in
                    #expect(String(buffer: response.body) != "secret", "\(attempt) leaked the file outside the root")
                    #expect([400, 404].contains(response.status.code), "\(attempt) answered \(response.status.code)")
                }
            }
            // Sanity: the same client does fetch files inside.
            try await client.execute(uri: "/vod/demo/master.m3u8", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "#EXTM3U\n#EXT-X-VERSION:7\n")
            }
        }
    }
}
