import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// `kerf serve` for VOD on a real socket: curl, ffprobe, ffmpeg and the validator as clients;
/// raw connections for the socket path (fast path, limits, slowloris).
@Suite(.serialized, .tags(.integration)) struct OriginTests {
    /// A packaged presentation through a real client and socket: bodies, a range, gzip that
    /// curl decodes, and the limits the HTTP channel applies before the router. The HTTP rules
    /// of each answer are checked in-process (`OriginRouterTests.vodAnswersFollowTheHTTPRules`).
    @Test func filesAreServedWithCDNHeaders() async throws {
        let (root, origin) = try await OriginRoot.serve()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }

        let master = try await curl([origin.base + "/vod/demo/master.m3u8"])
        #expect(master.status == 200)
        #expect(master.headers["content-type"] == "application/vnd.apple.mpegurl")
        #expect(master.headers["cache-control"] == "public, max-age=3600")
        #expect(master.body == (try Data(contentsOf: root.appendingPathComponent("demo/master.m3u8"))))
        let etag = try #require(master.headers["etag"])
        #expect(try await curl(["-H", "If-None-Match: \(etag)", origin.base + "/vod/demo/master.m3u8"]).status == 304)

        let segment = try Data(contentsOf: root.appendingPathComponent("demo/video_360p/seg_1.m4s"))
        let full = try await curl([origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(full.status == 200 && full.headers["content-type"] == "video/mp4")
        #expect(full.body == segment)
        let part = try await curl(["-H", "Range: bytes=100-199", origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(part.status == 206 && part.headers["content-range"] == "bytes 100-199/\(segment.count)")
        #expect(part.body == segment[100..<200])
        #expect(try await curl([origin.base + "/vod/demo/audio_und_aac/seg_1.m4s"]).headers["content-type"] == "audio/mp4")

        // gzip that a real client decodes back to the file.
        let gzipped = try await curl(["--compressed", origin.base + "/vod/demo/manifest.mpd"])
        #expect(gzipped.headers["content-encoding"] == "gzip")
        #expect(gzipped.body == (try Data(contentsOf: root.appendingPathComponent("demo/manifest.mpd"))))

        // What the HTTP channel refuses before the router: bodies on GET, long URLs.
        #expect(try await curl(["-X", "GET", "--data", "x=1", origin.base + "/vod/demo/master.m3u8"]).status == 413)
        #expect(try await curl([origin.base + "/vod/" + String(repeating: "a", count: 5000)]).status == 414)
        #expect(try await curl([origin.base + "/vod/demo/nothing.m4s"]).status == 404)
        await origin.stop()
    }

    /// A plain GET answered on raw bytes (the fast path) and one the router answers (a
    /// conditional that does not match) carry the same headers but Date, and the same body.
    @Test func rawFastPathAnswersLikeTheRouter() async throws {
        let (_, origin) = try await OriginRoot.serve()
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

    /// Players' view: ffprobe reads the served HLS and DASH, and Kerf's validator finds nothing
    /// wrong, down to the segments.
    @Test func servedPresentationsPlayAndValidate() async throws {
        let (root, origin) = try await OriginRoot.serve()
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

    /// The first request of a file goes through the router and fills the cache; the next ones
    /// are answered by the fast path with the same headers and bytes; a file rewritten on disk
    /// is served anew once the cached copy is a second old; `Connection: close` still closes.
    @Test func cachedFilesAnswerAlikeAndFollowTheDisk() async throws {
        let (root, origin) = try await OriginRoot.serve()
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
        var fresh = first
        try await waitUntil("the rewritten file served", timeout: .seconds(20)) {
            fresh = try await curl([url])
            return String(decoding: fresh.body, as: UTF8.self) == rewritten
        }
        #expect(fresh.headers["etag"] != first.headers["etag"])

        // Connection: close on a cached file closes the connection after the answer.
        let connection = try RawConnection(port: origin.port)
        connection.send("GET /vod/demo/video_360p/playlist.m3u8 HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n")
        let answer = connection.receive(atLeast: 1 << 20)
        #expect(answer.text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.closed)
        #expect(answer.text.hasSuffix(rewritten))
    }

    /// A cached file past `VODResponder.sendfileFrom` gets a sealed copy the fast path sends
    /// with `sendfile` (what goes out is checked in `RawRequestResponderTests`): curl gets the
    /// same headers and bytes as from the router, and pipelined requests on one connection get
    /// whole answers in order.
    @Test func largeCachedFilesAreSentIntact() async throws {
        let (root, origin) = try await OriginRoot.serve()
        defer { Task { await origin.stop() } }
        let content = Data((0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 11) })
        try content.write(to: root.appendingPathComponent("demo/big.m4s"))
        let url = origin.base + "/vod/demo/big.m4s"
        let routed = try await curl([url]), fast = try await curl([url])
        #expect(routed.status == 200 && fast.status == 200)
        #expect(routed.body == content && fast.body == content)
        var routedHeaders = routed.headers, fastHeaders = fast.headers
        routedHeaders["date"] = nil
        fastHeaders["date"] = nil
        #expect(fastHeaders == routedHeaders)
        // Entries last a second: a request refills an expired one before it is looked at.
        try await waitUntil("a sealed copy cached", timeout: .seconds(20)) {
            _ = try await curl([url])
            return origin.server.vod.cache.lookup("demo/big.m4s")?.file.sealed != nil
        }

        // The HEAD finds the socket's buffer full of the first answer (over NIO's high-water
        // mark) and goes to the router, as does the last, which asks to close: the
        // connection's end marks the end of the answers.
        let request = "GET /vod/demo/big.m4s HTTP/1.1\r\nHost: kerf\r\n"
        let connection = try RawConnection(port: origin.port, receiveTimeout: 20)
        #expect(connection.send(request + "\r\nHEAD /vod/demo/big.m4s HTTP/1.1\r\nHost: kerf\r\n\r\n" + request + "Connection: close\r\n\r\n"))
        let answer = connection.receiveBytes(atLeast: .max)
        #expect(answer.closed)
        var rest = answer.bytes[...]
        for (index, hasBody) in [true, false, true].enumerated() {
            let end = try #require(rest.firstRange(of: Array("\r\n\r\n".utf8)), "answer \(index): no head in \(rest.count) bytes")
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: \(content.count)\r\n"), "answer \(index)")
            rest = rest[end.upperBound...]
            guard hasBody else { continue }
            #expect(rest.count >= content.count && Data(rest.prefix(content.count)) == content, "answer \(index)")
            rest = rest.dropFirst(content.count)
        }
        #expect(rest.isEmpty)
    }

    /// A counter of the origin's `/metrics` (0 when not listed yet).
    static func counter(_ name: String, at origin: RunningOrigin) async throws -> Int {
        let metrics = String(decoding: try await curl([origin.base + "/metrics"]).body, as: UTF8.self)
        return metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// Files the cache does not hold whole (over its largest entry, or a Range of one not
    /// cached) go with `sendfile` through `SendfileBody` on plain HTTP/1.1: curl gets the bytes
    /// and ranges (and `kerf_http_sendfile_responses_total` counts them); answers pipelined
    /// behind one keep their order; a file cut short while being sent closes the connection at
    /// once (not at the idle timeout) with fewer bytes than announced, and the origin goes on.
    @Test func uncachedFilesGoWithSendfile() async throws {
        let (root, origin) = try await OriginRoot.serve()
        defer { Task { await origin.stop() } }
        let size = origin.server.vod.cache.largestEntry + 1_000_003
        let content = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 13) })
        let file = root.appendingPathComponent("demo/big.m4s")
        try content.write(to: file)
        let url = origin.base + "/vod/demo/big.m4s"
        let sentBefore = try await Self.counter("kerf_http_sendfile_responses_total", at: origin)
        let whole = try await curl([url])
        #expect(whole.status == 200 && whole.body == content && whole.headers["content-length"] == String(size))
        #expect(whole.headers[SendfileBody.field] == nil && whole.headers["etag"] != nil)
        let part = try await curl(["-H", "Range: bytes=1000-2999999", url])
        #expect(part.status == 206 && part.body == content[1000..<3_000_000])
        #expect(part.headers["content-range"] == "bytes 1000-2999999/\(size)")
        let suffix = try await curl(["-H", "Range: bytes=-100", url])
        #expect(suffix.status == 206 && suffix.body == content.suffix(100))
        // HEAD, 304 and 416 send no body.
        #expect(try await curl(["-I", url]).headers["content-length"] == String(size))
        #expect(try await curl(["-H", "If-None-Match: \(whole.headers["etag"] ?? "")", url]).status == 304)
        #expect(try await curl(["-H", "Range: bytes=\(size)-", url]).status == 416)
        // (Other suites running meanwhile may add theirs to these process-wide counters.)
        #expect(try await Self.counter("kerf_http_sendfile_responses_total", at: origin) - sentBefore >= 3)

        // Pipelined: the file, a cached segment, a range of the file asking to close.
        let segment = try Data(contentsOf: root.appendingPathComponent("demo/video_360p/seg_1.m4s"))
        let connection = try RawConnection(port: origin.port, receiveTimeout: 20)
        #expect(connection.send("GET /vod/demo/big.m4s HTTP/1.1\r\nHost: kerf\r\n\r\nGET /vod/demo/video_360p/seg_1.m4s HTTP/1.1\r\nHost: kerf\r\n\r\n"
            + "GET /vod/demo/big.m4s HTTP/1.1\r\nHost: kerf\r\nRange: bytes=5-9\r\nConnection: close\r\n\r\n"))
        let answer = connection.receiveBytes(atLeast: .max)
        connection.close()
        #expect(answer.closed)
        var rest = answer.bytes[...]
        for (index, (status, body)) in [("200 OK", content), ("200 OK", segment), ("206 Partial Content", content[5..<10])].enumerated() {
            let end = try #require(rest.firstRange(of: Array("\r\n\r\n".utf8)), "answer \(index): no head in \(rest.count) bytes")
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            #expect(head.hasPrefix("HTTP/1.1 \(status)\r\n") && head.contains("Content-Length: \(body.count)\r\n"), "answer \(index)")
            #expect(!head.lowercased().contains(SendfileBody.field), "answer \(index)")
            rest = rest[end.upperBound...]
            #expect(rest.count >= body.count && Data(rest.prefix(body.count)) == body, "answer \(index)")
            rest = rest.dropFirst(body.count)
        }
        #expect(rest.isEmpty)

        // A file cut short in place while a client reads it slowly (its small window keeps most
        // of the 64 MiB unsent).
        let shrinking = root.appendingPathComponent("demo/shrinking.m4s"), shrinkingSize = 64 << 20
        try Self.sparseFile(shrinking, size: shrinkingSize)
        let shrankBefore = try await Self.counter("kerf_http_files_shrank_total", at: origin)
        let reader = try RawConnection(port: origin.port, receiveTimeout: 20, receiveBuffer: 65_536)
        #expect(reader.send("GET /vod/demo/shrinking.m4s HTTP/1.1\r\nHost: kerf\r\n\r\n"))
        let start = reader.receiveBytes(atLeast: 1)
        #expect(String(decoding: start.bytes.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK")
        #expect(truncate(shrinking.path, 100_000) == 0)
        let began = ContinuousClock.now
        let cut = reader.receiveBytes(atLeast: .max)
        reader.close()
        // Closed well before the 20 s receive timeout (and the 30 s idle timeout).
        #expect(cut.closed && ContinuousClock.now - began < .seconds(10))
        #expect(start.bytes.count + cut.bytes.count < shrinkingSize)
        #expect(try await Self.counter("kerf_http_files_shrank_total", at: origin) > shrankBefore)
        let after = try await curl([origin.base + "/vod/demo/video_360p/seg_1.m4s"])
        #expect(after.status == 200 && after.body == segment)
    }

    /// A sparse file of `size` bytes (zeros) at `url`.
    static func sparseFile(_ url: URL, size: Int) throws {
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        #expect(truncate(url.path, off_t(size)) == 0)
    }

    /// Reads one answer of `size` body bytes from `reader` in 4 MiB reads, without keeping them;
    /// `during` runs once, after the first body bytes.
    /// - Returns: the head and the body bytes that came.
    static func readAnswer(_ reader: RawConnection, size: Int, during: () -> Void = {}) -> (head: String, body: Int) {
        var start = [UInt8]()
        var headEnd: Range<Int>?
        while headEnd == nil {
            let chunk = reader.receiveBytes(atLeast: 1)
            start += chunk.bytes
            headEnd = start.firstRange(of: Array("\r\n\r\n".utf8))
            if chunk.closed || chunk.bytes.isEmpty { break }
        }
        let head = String(decoding: start[..<(headEnd?.lowerBound ?? start.endIndex)], as: UTF8.self)
        var body = start.count - (headEnd?.upperBound ?? start.count)
        var ran = false
        while body < size {
            let chunk = reader.receiveBytes(atLeast: min(4 << 20, size - body))
            body += chunk.bytes.count
            if chunk.closed || chunk.bytes.isEmpty { break }
            if !ran {
                ran = true
                during()
            }
        }
        return (head, body)
    }

    /// A file sent with `sendfile` is a request in progress until its bytes are sent, as a body
    /// the router streams is: a client reading a 64 GiB file is still being sent bytes after a
    /// connection opened beside it with no request has been closed for idling (the idle
    /// timeout, 1 s, has passed), and one reading a 256 MiB file gets every byte, with and
    /// without the fast path (tokens); a client that takes no bytes at all is closed after the
    /// idle timeout.
    @Test(arguments: [false, true]) func filesBeingSentOutlastTheIdleTimeout(tokens: Bool) async throws {
        let root = try OriginRoot.make()
        var configuration = OriginConfiguration()
        configuration.root = root.path
        configuration.idleTimeout = 1
        if tokens { configuration.tokenSecret = "correct-horse-battery-staple" }
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let size = 256 << 20, endless = 64 << 30
        try Self.sparseFile(root.appendingPathComponent("demo/big.m4s"), size: size)
        try Self.sparseFile(root.appendingPathComponent("demo/endless.m4s"), size: endless)
        func signed(_ path: String) throws -> String {
            guard tokens else { return path }
            return try #require(SignedURL(secret: "correct-horse-battery-staple").sign(path: path, expires: Int64(UTCTime.now()) + 600))
        }
        let sentBefore = try await Self.counter("kerf_http_sendfile_responses_total", at: origin)

        let long = try RawConnection(port: origin.port, receiveTimeout: 20, receiveBuffer: 65_536)
        #expect(long.send("GET \(try signed("/vod/demo/endless.m4s")) HTTP/1.1\r\nHost: kerf\r\n\r\n"))
        // The idle connection opens once the answer has begun, so it idles out after it.
        var received = long.receiveBytes(atLeast: 1).bytes.count
        let idle = try RawConnection(port: origin.port, receiveTimeout: 20)
        while !idle.peerClosed, received < endless {
            let chunk = long.receiveBytes(atLeast: 4 << 20)
            received += chunk.bytes.count
            if chunk.closed || chunk.bytes.isEmpty { break }
        }
        // The idle connection was closed while the transfer went on, and it goes on after.
        #expect(idle.peerClosed, "\(received) bytes")
        let after = long.receiveBytes(atLeast: 4 << 20)
        #expect(!after.closed && after.bytes.count >= 4 << 20, "\(received) bytes, then \(after.bytes.count)")
        long.close()
        idle.close()

        let reader = try RawConnection(port: origin.port, receiveTimeout: 20, receiveBuffer: 65_536)
        #expect(reader.send("GET \(try signed("/vod/demo/big.m4s")) HTTP/1.1\r\nHost: kerf\r\n\r\n"))
        let (head, body) = Self.readAnswer(reader, size: size)
        reader.close()
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: \(size)\r\n"), "\(head)")
        #expect(body == size, "\(body) bytes of \(size)")
        #expect(try await Self.counter("kerf_http_sendfile_responses_total", at: origin) > sentBefore)

        let stalled = try RawConnection(port: origin.port, receiveTimeout: 20, receiveBuffer: 65_536)
        #expect(stalled.send("GET \(try signed("/vod/demo/big.m4s")) HTTP/1.1\r\nHost: kerf\r\n\r\n"))
        // One read of the answer's start, then nothing.
        #expect(String(decoding: stalled.receiveBytes(atLeast: 1).bytes.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK")
        let stalledAt = ContinuousClock.now
        try await stalled.waitForServerClose(serverPort: origin.port, timeout: .seconds(15))
        #expect(ContinuousClock.now - stalledAt >= .seconds(1))
        stalled.close()
    }

    /// `kerf serve` told to stop (SIGTERM) while it sends a file with `sendfile` to a slow
    /// client: the transfer ends whole, then the server exits 0; with and without the fast path
    /// (tokens).
    @Test(arguments: [false, true]) func aFileBeingSentOutlastsGracefulShutdown(tokens: Bool) async throws {
        let root = try OriginRoot.make()
        let size = 512 << 20
        try Self.sparseFile(root.appendingPathComponent("demo/big.m4s"), size: size)
        let config = root.deletingLastPathComponent().appendingPathComponent("kerf.yaml")
        let secret = "correct-horse-battery-staple"
        try "root: \(root.path)\nlisten: 127.0.0.1:0\nidle-timeout: 1\n\(tokens ? "token-secret: \(secret)\n" : "")"
            .write(to: config, atomically: true, encoding: .utf8)
        var path = "/vod/demo/big.m4s"
        if tokens { path = try #require(SignedURL(secret: secret).sign(path: path, expires: Int64(UTCTime.now()) + 600)) }
        let server = try BackgroundProcess("sh", ["-c", "exec \"$0\" \"$@\" 2>&1", Fixtures.kerf, "serve", "--config", config.path])
        defer { server.stop() }
        let line = try #require(server.readLine())
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "\(line)")
        let reader = try RawConnection(port: port, receiveTimeout: 20, receiveBuffer: 65_536)
        #expect(reader.send("GET \(path) HTTP/1.1\r\nHost: kerf\r\n\r\n"))
        let (head, body) = Self.readAnswer(reader, size: size) {
            kill(server.process.processIdentifier, SIGTERM)
        }
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(head)")
        #expect(body == size, "\(body) bytes of \(size)")
        // The connection then closes, and the server exits.
        #expect(reader.receiveBytes(atLeast: 1).closed)
        reader.close()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
    }

    /// Slowloris heads, oversized heads and one connection too many, on raw sockets.
    @Test func connectionLimitsHold() async throws {
        let root = try OriginRoot.make()
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
        // The count of refused connections is the process's (other tests of this suite refuse
        // some too): what this test adds is counted from here.
        func refusedSoFar(_ metrics: String) -> Int {
            metrics.split(separator: "\n").first { $0.hasPrefix("kerf_http_connections_refused_total ") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
        let baseline = try RawConnection(port: origin.port, receiveTimeout: 15)
        baseline.send("GET /metrics HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n")
        let refusedBefore = refusedSoFar(baseline.receive(atLeast: 1 << 20).text)
        baseline.close()

        // A head trickled a line at a time is cut off after the 1 s header timeout (seen by the
        // client within seconds even on a loaded machine), long before the 30 s idle timeout.
        // After each line the client waits for the server to close, at most 300 ms (its receive
        // timeout), then sends the next.
        let slow = try RawConnection(port: origin.port, receiveTimeout: 0.3)
        let started = Date()
        slow.send("GET /vod/demo/master.m3u8 HTTP/1.1\r\n")
        var line = 0
        while slow.send("X-Trickle-\(line): 1\r\n"), line < 60, !slow.receive(atLeast: 1 << 20).closed {
            line += 1
        }
        let cutOff = Date().timeIntervalSince(started)
        #expect(line < 60 && cutOff > 0.9 && cutOff < 20, "closed after \(cutOff) s (\(line) lines)")

        // A keep-alive connection idle for longer than the header timeout between requests is
        // still served.
        let patient = try RawConnection(port: origin.port)
        patient.send(request)
        #expect(patient.receive().text.hasPrefix("HTTP/1.1 200 OK"))
        // A probe opened now with half a head is cut off once the header timeout has passed:
        // when it is, `patient` has been idle longer than that timeout too.
        let probe = try RawConnection(port: origin.port)
        probe.send("GET /vod/demo/master.m3u8 HTTP/1.1\r\n")
        #expect(probe.receive(atLeast: 1 << 20).closed, "the header timeout did not close the probe")
        probe.close()
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

        // Three connections open (`patient` and two more, each answered once so the server has
        // counted it): the fourth is answered 503 at once. The server sees the connections
        // closed above a moment after they close: one refused meanwhile is counted and tried
        // again.
        var refusals = 0
        var others: [RawConnection] = []
        while others.count < 2 {
            others.append(try await waitFor("a connection served beside \(others.count + 1)", timeout: .seconds(20)) { () -> RawConnection? in
                let other = try RawConnection(port: origin.port)
                other.send(request)
                let answer = other.receive().text
                if answer.hasPrefix("HTTP/1.1 503 ") {
                    refusals += 1
                    return nil
                }
                #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
                return other
            })
        }
        let busy = try RawConnection(port: origin.port, receiveTimeout: 15).receive(atLeast: 1 << 20)
        #expect(busy.text.hasPrefix("HTTP/1.1 503 Service Unavailable"), "\(busy.text)")
        #expect(busy.text.contains("Retry-After: 1"))
        #expect(busy.closed)
        refusals += 1
        // Once one closes (and the server has seen it close), a new connection is served; the
        // refusals counted are the 503s seen.
        others[0].close()
        let metrics = try await waitFor("a connection served after one closed", timeout: .seconds(20)) { () -> String? in
            let next = try RawConnection(port: origin.port, receiveTimeout: 15)
            next.send("GET /metrics HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n")
            let answer = next.receive(atLeast: 1 << 20).text
            if answer.hasPrefix("HTTP/1.1 503 ") { refusals += 1 }
            return answer.hasPrefix("HTTP/1.1 200 OK") ? answer : nil
        }
        #expect(refusedSoFar(metrics) - refusedBefore == refusals, "\(metrics.split(separator: "\n").filter { $0.contains("refused") })")
        withExtendedLifetime((patient, others)) {}
    }
}
