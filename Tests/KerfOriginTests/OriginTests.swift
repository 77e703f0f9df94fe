import AsyncHTTPClient
import Foundation
import KerfTestSupport
import Logging
import NIOCore
import Testing
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP

/// A `kerf serve` origin running in-process on a free port for the length of a test.
final class RunningOrigin: @unchecked Sendable {
    let task: Task<Void, Error>
    let port: Int
    let server: OriginServer
    var base: String { "http://127.0.0.1:\(port)" }

    init(_ configuration: OriginConfiguration) async throws {
        var configuration = configuration
        configuration.listen = "127.0.0.1:0"
        let server = try OriginServer(configuration: configuration, logger: Logger(label: "test"))
        self.server = server
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        task = Task { try await server.run { port in continuation.yield(port) } }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CommandError(message: "the origin did not start") }
        self.port = port
    }

    /// Stops the server and waits until it has shut down.
    func stop() async {
        task.cancel()
        _ = await task.result
    }

    deinit { task.cancel() }
}

/// Runs curl (a client nobody here wrote) and returns the status code, headers and body.
func curl(_ arguments: [String]) async throws -> (status: Int, headers: [String: String], body: Data) {
    let dir = try Fixtures.temporaryDirectory("kerf-curl")
    defer { try? FileManager.default.removeItem(at: dir) }
    let headerFile = dir.appendingPathComponent("h").path, bodyFile = dir.appendingPathComponent("b").path
    let result = try await Command.runDetached("curl", ["-s", "-g", "--path-as-is", "--max-time", "60", "-D", headerFile, "-o", bodyFile] + arguments)
    guard result.status == 0 else { throw CommandError(message: "curl failed: \(result.stderr)") }
    let lines = try String(contentsOfFile: headerFile, encoding: .utf8).components(separatedBy: "\r\n")
    let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return (status, headers, (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data())
}

@Suite(.serialized) struct OriginTests {
    /// A root with one Kerf package (HLS + DASH) and a file outside it that must never be served.
    static func makeRoot() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("kerf-origin")
        try "secret".write(to: dir.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        let root = dir.appendingPathComponent("root")
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", root.appendingPathComponent("demo").path,
                                                "--formats", "hls,dash", "--segment-duration", "2"]).status == 0)
        // A symbolic link inside the root that leads outside it.
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("demo/escape.txt").path,
                                                   withDestinationPath: dir.appendingPathComponent("secret.txt").path)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("up").path, withDestinationPath: dir.path)
        return root
    }

    /// `makeRoot()` served by an origin with the default configuration.
    static func serveRoot() async throws -> (root: URL, origin: RunningOrigin) {
        let root = try makeRoot()
        var configuration = OriginConfiguration()
        configuration.root = root.path
        return (root, try await RunningOrigin(configuration))
    }

    @Test func filesAreServedWithCDNHeaders() async throws {
        let (root, origin) = try await Self.serveRoot()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }

        let master = try await curl([origin.base + "/vod/demo/master.m3u8"])
        #expect(master.status == 200)
        #expect(master.headers["content-type"] == "application/vnd.apple.mpegurl")
        #expect(master.headers["cache-control"] == "public, max-age=3600")
        #expect(master.headers["access-control-allow-origin"] == "*")
        #expect(master.body == (try Data(contentsOf: root.appendingPathComponent("demo/master.m3u8"))))
        let etag = try #require(master.headers["etag"])
        let lastModified = try #require(master.headers["last-modified"])

        // Conditional GETs: 304 with the validators, no body.
        let revalidated = try await curl(["-H", "If-None-Match: \(etag)", origin.base + "/vod/demo/master.m3u8"])
        #expect(revalidated.status == 304)
        #expect(revalidated.body.isEmpty)
        #expect(revalidated.headers["etag"] == etag)
        #expect(try await curl(["-H", "If-Modified-Since: \(lastModified)", origin.base + "/vod/demo/master.m3u8"]).status == 304)
        #expect(try await curl(["-H", "If-None-Match: \"other\"", origin.base + "/vod/demo/master.m3u8"]).status == 200)
        #expect(try await curl(["-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT", origin.base + "/vod/demo/master.m3u8"]).status == 200)

        // Segments: immutable, byte ranges, 416, HEAD.
        let segmentPath = root.appendingPathComponent("demo/video_360p/seg_1.m4s")
        let segment = try Data(contentsOf: segmentPath)
        let full = try await curl([origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(full.status == 200)
        #expect(full.headers["content-type"] == "video/mp4")
        #expect(full.headers["cache-control"] == "public, max-age=31536000, immutable")
        #expect(full.body == segment)
        let part = try await curl(["-H", "Range: bytes=100-199", origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(part.status == 206)
        #expect(part.headers["content-range"] == "bytes 100-199/\(segment.count)")
        #expect(part.body == segment[100..<200])
        let suffix = try await curl(["-H", "Range: bytes=-10", origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(suffix.status == 206)
        #expect(suffix.body == segment.suffix(10))
        let beyond = try await curl(["-H", "Range: bytes=\(segment.count)-", origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(beyond.status == 416)
        #expect(beyond.headers["content-range"] == "bytes */\(segment.count)")
        // If-Range: a stale validator gets the whole file, the current one the part.
        #expect(try await curl(["-H", "Range: bytes=0-9", "-H", "If-Range: \"stale\"", origin.base + "/vod/demo/video_360p/seg_1.m4s"]).status == 200)
        let segmentTag = try #require(full.headers["etag"])
        #expect(try await curl(["-H", "Range: bytes=0-9", "-H", "If-Range: \(segmentTag)", origin.base + "/vod/demo/video_360p/seg_1.m4s"]).status == 206)
        #expect(try await curl(["-H", "Range: BYTES=0-9", origin.base + "/vod/demo/video_360p/seg_1.m4s"]).status == 206)
        let head = try await curl(["-I", origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == String(segment.count))
        // HEAD ignores Range: it describes what GET without Range would send.
        let headRange = try await curl(["-I", "-H", "Range: bytes=0-9", origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(headRange.status == 200)
        #expect(headRange.headers["content-length"] == String(segment.count))
        // Dates that do not parse (or overflow) are ignored, never fatal.
        for date in ["Sun, 06 Nov 99999999999999 08:49:37 GMT", "Sun, 06 Nov 1994 9999999999999999:00:00 GMT", "yesterday"] {
            #expect(try await curl(["-H", "If-Modified-Since: \(date)", origin.base + "/vod/demo/master.m3u8"]).status == 200)
        }
        #expect(try await curl([origin.base + "/vod/demo/audio_und_aac/seg_1.m4s"]).headers["content-type"] == "audio/mp4")
        #expect(try await curl([origin.base + "/vod/demo/manifest.mpd"]).headers["content-type"] == "application/dash+xml")

        // gzip for manifests when accepted (curl decodes it), with its own validator.
        let gzipped = try await curl(["--compressed", origin.base + "/vod/demo/manifest.mpd"])
        #expect(gzipped.headers["content-encoding"] == "gzip")
        #expect(gzipped.headers["vary"] == "Accept-Encoding")
        #expect(gzipped.headers["etag"]?.hasSuffix("-gz\"") == true)
        #expect(gzipped.body == (try Data(contentsOf: root.appendingPathComponent("demo/manifest.mpd"))))
        let gzippedHead = try await curl(["-I", "-H", "Accept-Encoding: gzip", origin.base + "/vod/demo/manifest.mpd"])
        #expect(gzippedHead.headers["content-length"] == gzipped.headers["content-length"])
        #expect(gzippedHead.headers["etag"] == gzipped.headers["etag"])

        // CORS preflight, methods, bodies, long URLs, misses.
        let preflight = try await curl(["-X", "OPTIONS", "-H", "Origin: https://player.example", "-H", "Access-Control-Request-Method: GET",
                                  origin.base + "/vod/demo/master.m3u8"])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS")
        #expect(preflight.headers["access-control-allow-headers"]?.contains("Range") == true)
        #expect(try await curl(["-X", "DELETE", origin.base + "/vod/demo/master.m3u8"]).status == 405)
        #expect(try await curl(["-X", "GET", "--data", "x=1", origin.base + "/vod/demo/master.m3u8"]).status == 413)
        #expect(try await curl([origin.base + "/vod/" + String(repeating: "a", count: 5000)]).status == 414)
        let missing = try await curl([origin.base + "/vod/demo/nothing.m4s"])
        #expect(missing.status == 404)
        #expect(missing.headers["cache-control"] == "public, max-age=10")
        #expect(try await curl([origin.base + "/healthz"]).body == Data("ok\n".utf8))
        let status = String(decoding: try await curl([origin.base + "/"]).body, as: UTF8.self)
        #expect(status.contains("<a href=\"/vod/demo/master.m3u8\">"))
        #expect(status.contains("<a href=\"/vod/demo/manifest.mpd\">"))
        let time = String(decoding: try await curl([origin.base + "/time"]).body, as: UTF8.self)
        #expect(time.count == 24 && time.hasSuffix("Z"))
        await origin.stop()
    }

    /// At least 20 ways of climbing out of the root: none returns the file outside it.
    /// A plain GET answered on raw bytes (the fast path) and one the router answers (a
    /// conditional that does not match) carry the same headers but Date, and the same body.
    @Test func rawFastPathAnswersLikeTheRouter() async throws {
        let (_, origin) = try await Self.serveRoot()
        defer { Task { await origin.stop() } }
        for file in ["/vod/demo/master.m3u8", "/vod/demo/manifest.mpd", "/vod/demo/video_360p/init.mp4"] {
            _ = try await curl([origin.base + file])  // a miss goes through the router and fills the cache
            let fast = try await curl([origin.base + file])
            let routed = try await curl(["-H", "If-None-Match: \"other\"", origin.base + file])
            #expect(fast.status == 200 && routed.status == 200)
            var fastHeaders = fast.headers, routedHeaders = routed.headers
            #expect(fastHeaders.removeValue(forKey: "date") != nil && routedHeaders.removeValue(forKey: "date") != nil)
            #expect(fastHeaders == routedHeaders, "\(file)")
            #expect(fast.body == routed.body && !fast.body.isEmpty)
            let head = try await curl(["-I", origin.base + file])
            #expect(head.status == 200 && head.headers["content-length"] == String(fast.body.count))
        }
    }

    @Test func pathTraversalNeverLeavesTheRoot() async throws {
        let (root, origin) = try await Self.serveRoot()
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
        for attempt in attempts {
            let response = try await curl([origin.base + attempt])
            #expect(response.body != Data("secret".utf8), "\(attempt) leaked the file outside the root")
            #expect([400, 404].contains(response.status), "\(attempt) answered \(response.status)")
        }
        // Sanity: the same client does fetch files inside.
        #expect(try await curl([origin.base + "/vod/demo/master.m3u8"]).status == 200)
        await origin.stop()
    }

    /// Players' view: ffprobe reads the served HLS and DASH, and Kerf's validator finds nothing
    /// wrong, down to the segments.
    @Test func servedPresentationsPlayAndValidate() async throws {
        let (root, origin) = try await Self.serveRoot()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let url = origin.base + "/vod/demo/" + manifest
            // Every video packet, read the way players fetch: 10 s at 25 fps.
            // (ffprobe's -count_packets undercounts with its DASH demuxer; listing them does not.)
            let probe = try Command.ffprobe(["-select_streams", "v", "-show_entries", "packet=pts_time", url])
            let times = (probe["packets"] as? [[String: Any]] ?? []).compactMap { ($0["pts_time"] as? String).flatMap(Double.init) }
            #expect(times.count == 250, "\(manifest)")
            let validate = try Command.run(Fixtures.kerf, ["validate", "--deep", url])
            #expect(validate.status == 0, "\(validate.stdout)")
            #expect(validate.stdout.hasSuffix("0 errors, 0 warnings\n"))
        }
        // Single-file packages are read with byte ranges (206 from this origin): HLS
        // EXT-X-BYTERANGE and DASH SegmentBase.
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", root.appendingPathComponent("single").path,
                                                "--formats", "hls,dash", "--single-file"]).status == 0)
        for manifest in ["master.m3u8", "manifest.mpd"] {
            let validate = try Command.run(Fixtures.kerf, ["validate", "--deep", origin.base + "/vod/single/" + manifest])
            #expect(validate.status == 0, "\(validate.stdout)")
            #expect(validate.stdout.hasSuffix("0 errors, 0 warnings\n"))
        }
        await origin.stop()
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
    }

    /// The first request of a file goes through the router and fills the cache; the next ones
    /// are answered by the fast path with the same headers and bytes; a file rewritten on disk
    /// is served anew once the cached copy is a second old; `Connection: close` still closes.
    @Test func cachedFilesAnswerAlikeAndFollowTheDisk() async throws {
        let (root, origin) = try await Self.serveRoot()
        defer { Task { await origin.stop() } }
        let url = origin.base + "/vod/demo/video_360p/playlist.m3u8"
        let first = try await curl([url]), second = try await curl([url]), head = try await curl(["-I", url])
        #expect(first.status == 200 && second.status == 200 && head.status == 200)
        #expect(second.body == first.body)
        var expected = first.headers, cached = second.headers
        expected["date"] = nil
        cached["date"] = nil
        #expect(cached == expected)
        #expect(head.headers["content-length"] == first.headers["content-length"])
        #expect(!String(decoding: head.body, as: UTF8.self).contains("#EXTM3U"))
        // Served from the fast path, still counted.
        let metrics = String(decoding: try await curl([origin.base + "/metrics"]).body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("kerf_http_requests_total{route=\"/vod/**\",method=\"GET\",status=\"200\"}") }
        #expect((line?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 2, "\(line ?? "no kerf_http_requests_total")")

        // Rewritten on disk: within a second the old copy may still answer, then the new one.
        let file = root.appendingPathComponent("demo/video_360p/playlist.m3u8")
        let rewritten = String(decoding: first.body, as: UTF8.self) + "#EXT-X-COMMENT-LIKE-LINE\n"
        try rewritten.write(to: file, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(1100))
        let fresh = try await curl([url])
        #expect(String(decoding: fresh.body, as: UTF8.self) == rewritten)
        #expect(fresh.headers["etag"] != first.headers["etag"])

        // Connection: close on a cached file closes the connection after the answer.
        let connection = try RawConnection(port: origin.port)
        connection.send("GET /vod/demo/video_360p/playlist.m3u8 HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n")
        let answer = connection.receive(atLeast: 1 << 20)
        #expect(answer.text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.closed)
        #expect(answer.text.hasSuffix(rewritten))
    }

    /// Slowloris heads, oversized heads and one connection too many, on raw sockets.
    @Test func connectionLimitsHold() async throws {
        let root = try Self.makeRoot()
        var configuration = try OriginConfiguration.load(yaml: """
            header-timeout: 1
            idle-timeout: 30
            max-header-size: 4096
            max-connections: 3
            """, file: "kerf.yaml")
        #expect(configuration.headerTimeout == 1 && configuration.maxHeaderSize == 4096 && configuration.maxConnections == 3)
        configuration.root = root.path
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let request = "GET /vod/demo/master.m3u8 HTTP/1.1\r\nHost: kerf\r\n\r\n"

        // A head trickled one line every 300 ms is cut off after the 1 s header timeout (seen
        // by the client within a few seconds on a busy machine), long before the 30 s idle timeout.
        let slow = try RawConnection(port: origin.port)
        let started = Date()
        slow.send("GET /vod/demo/master.m3u8 HTTP/1.1\r\n")
        var line = 0
        while slow.send("X-Trickle-\(line): 1\r\n"), line < 30 {
            try await Task.sleep(for: .milliseconds(300))
            line += 1
        }
        let cutOff = Date().timeIntervalSince(started)
        #expect(cutOff > 0.9 && cutOff < 8, "closed after \(cutOff) s")

        // A keep-alive connection idle for longer than the header timeout between requests is
        // still served.
        let patient = try RawConnection(port: origin.port)
        patient.send(request)
        #expect(patient.receive().text.hasPrefix("HTTP/1.1 200 OK"))
        try await Task.sleep(for: .milliseconds(1600))
        patient.send(request)
        let second = patient.receive()
        #expect(second.text.hasPrefix("HTTP/1.1 200 OK") || second.text.contains("#EXTM3U"), "\(second)")

        // A head over max-header-size: 400 and the connection closes.
        let big = try RawConnection(port: origin.port)
        big.send("GET /vod/demo/master.m3u8 HTTP/1.1\r\nHost: kerf\r\nCookie: \(String(repeating: "a", count: 5000))\r\n\r\n")
        let refused = big.receive(atLeast: 1 << 20)
        #expect(refused.text.hasPrefix("HTTP/1.1 400 "), "\(refused.text)")
        #expect(refused.closed)
        big.close()
        slow.close()

        // Three connections open (`patient` and two more; the server keeps a connection it
        // answered with `Connection: close` until the client closes or the idle timeout): the fourth is answered 503 at once.
        let others = [try RawConnection(port: origin.port), try RawConnection(port: origin.port)]
        try await Task.sleep(for: .milliseconds(200))
        let busy = try RawConnection(port: origin.port, receiveTimeout: 15).receive(atLeast: 1 << 20)
        #expect(busy.text.hasPrefix("HTTP/1.1 503 Service Unavailable"), "\(busy.text)")
        #expect(busy.text.contains("Retry-After: 1"))
        #expect(busy.closed)
        // Once one closes, a new connection is served.
        others[0].close()
        try await Task.sleep(for: .milliseconds(200))
        let next = try RawConnection(port: origin.port)
        next.send("GET /metrics HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n")
        let metrics = next.receive(atLeast: 1 << 20).text
        #expect(metrics.hasPrefix("HTTP/1.1 200 OK"))
        #expect(metrics.contains("kerf_http_connections_refused_total 1"), "\(metrics.split(separator: "\n").filter { $0.contains("refused") })")
        withExtendedLifetime((patient, others)) {}
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
