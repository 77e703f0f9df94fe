import Foundation
import Hummingbird
import HTTPTypes
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

/// The HTTP rules of VOD answers, in-process: validators and conditional requests, byte
/// ranges, HEAD, gzip, CORS, methods and misses. `OriginTests` keeps what needs the socket and
/// a real client (curl decoding gzip, the URL-length limit, the raw fast path).
extension OriginRouterTests {
    @Test func vodAnswersFollowTheHTTPRules() async throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        let mpd = Data("<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">\(String(repeating: "<!-- padding -->", count: 100))</MPD>\n".utf8)
        try mpd.write(to: root.appendingPathComponent("demo/manifest.mpd"))
        let segment = Data(repeating: 7, count: 1000)
        try await Self.application(root: root).test(.router) { client in
            func get(_ uri: String, _ headers: [(HTTPField.Name, String)] = [], method: HTTPRequest.Method = .get) async throws -> TestResponse {
                var fields = HTTPFields()
                for (name, value) in headers { fields[name] = value }
                return try await client.execute(uri: uri, method: method, headers: fields) { $0 }
            }
            let master = try await get("/vod/demo/master.m3u8")
            #expect(master.status == .ok)
            #expect(master.headers[.contentType] == "application/vnd.apple.mpegurl")
            #expect(master.headers[.cacheControl] == "public, max-age=3600")
            #expect(master.headers[.accessControlAllowOrigin] == "*")
            let etag = try #require(master.headers[.eTag]), lastModified = try #require(master.headers[.lastModified])
            // Conditional GETs: 304 with the validators and no body; others get the file.
            let revalidated = try await get("/vod/demo/master.m3u8", [(.ifNoneMatch, etag)])
            #expect(revalidated.status == .notModified && revalidated.body.readableBytes == 0 && revalidated.headers[.eTag] == etag)
            #expect(try await get("/vod/demo/master.m3u8", [(.ifModifiedSince, lastModified)]).status == .notModified)
            #expect(try await get("/vod/demo/master.m3u8", [(.ifNoneMatch, "\"other\"")]).status == .ok)
            #expect(try await get("/vod/demo/master.m3u8", [(.ifModifiedSince, "Thu, 01 Jan 1970 00:00:00 GMT")]).status == .ok)
            for date in ["Sun, 06 Nov 99999999999999 08:49:37 GMT", "Sun, 06 Nov 1994 9999999999999999:00:00 GMT", "yesterday"] {
                #expect(try await get("/vod/demo/master.m3u8", [(.ifModifiedSince, date)]).status == .ok, "\(date)")
            }
            // Segments: immutable, byte ranges, 416, If-Range, HEAD.
            let uri = "/vod/demo/video_360p/seg_1.m4s"
            let full = try await get(uri)
            #expect(full.status == .ok && full.headers[.contentType] == "video/mp4")
            #expect(full.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(Data(buffer: full.body) == segment)
            let segmentTag = try #require(full.headers[.eTag])
            let part = try await get(uri, [(.range, "bytes=100-199")])
            #expect(part.status == .partialContent && part.headers[.contentRange] == "bytes 100-199/1000")
            #expect(Data(buffer: part.body) == segment[100..<200])
            let suffix = try await get(uri, [(.range, "bytes=-10")])
            #expect(suffix.status == .partialContent && suffix.body.readableBytes == 10)
            let beyond = try await get(uri, [(.range, "bytes=1000-")])
            #expect(beyond.status == .rangeNotSatisfiable && beyond.headers[.contentRange] == "bytes */1000")
            #expect(try await get(uri, [(.range, "bytes=0-9"), (.ifRange, "\"stale\"")]).status == .ok)
            #expect(try await get(uri, [(.range, "bytes=0-9"), (.ifRange, segmentTag)]).status == .partialContent)
            #expect(try await get(uri, [(.range, "BYTES=0-9")]).status == .partialContent)
            let head = try await get(uri, method: .head)
            #expect(head.status == .ok && head.headers[.contentLength] == "1000" && head.body.readableBytes == 0)
            // HEAD ignores Range: it describes what GET without Range would send.
            let headRange = try await get(uri, [(.range, "bytes=0-9")], method: .head)
            #expect(headRange.status == .ok && headRange.headers[.contentLength] == "1000")
            // gzip for manifests when accepted, with its own validator; HEAD matches GET.
            let gzipped = try await get("/vod/demo/manifest.mpd", [(.acceptEncoding, "gzip")])
            #expect(gzipped.headers[.contentType] == "application/dash+xml")
            #expect(gzipped.headers[.contentEncoding] == "gzip" && gzipped.headers[.vary] == "Accept-Encoding")
            #expect(gzipped.headers[.eTag]?.hasSuffix("-gz\"") == true && gzipped.body.readableBytes < mpd.count)
            let gzippedHead = try await get("/vod/demo/manifest.mpd", [(.acceptEncoding, "gzip")], method: .head)
            #expect(gzippedHead.headers[.contentLength] == gzipped.headers[.contentLength])
            // CORS preflight, methods, misses, health, status page, time.
            let preflight = try await get("/vod/demo/master.m3u8", [(.origin, "https://player.example"), (.accessControlRequestMethod, "GET")],
                                          method: .options)
            #expect(preflight.status == .noContent && preflight.headers[.accessControlAllowMethods] == "GET, HEAD, OPTIONS")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Range") == true)
            #expect(try await get("/vod/demo/master.m3u8", method: .delete).status == .methodNotAllowed)
            let missing = try await get("/vod/demo/nothing.m4s")
            #expect(missing.status == .notFound && missing.headers[.cacheControl] == "public, max-age=10")
            #expect(String(buffer: try await get("/healthz").body) == "ok\n")
            #expect(String(buffer: try await get("/").body).contains("<a href=\"/vod/demo/master.m3u8\">"))
            let time = String(buffer: try await get("/time").body)
            #expect(time.count == 24 && time.hasSuffix("Z"))
        }
    }
}
