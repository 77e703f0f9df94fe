import AsyncHTTPClient
import Foundation
import KerfTestSupport
import KerfTestTags
import NIOCore
import NIOSSL
import Testing
@testable import KerfOrigin

/// `kerf serve` with `tls:`: HTTP/2 and HTTP/1.1 by ALPN with a certificate chain issued by a
/// test CA (openssl), curl and AsyncHTTPClient as clients trusting only the CA's root.
@Suite(.serialized, .tags(.integration)) struct OriginTLSTests {
    /// An origin with a plain listener and a TLS one beside it, serving `OriginRoot`.
    static func serve(_ certificates: TestCertificates, _ change: (inout OriginConfiguration) -> Void = { _ in })
        async throws -> (root: URL, origin: RunningOrigin) {
        let root = try OriginRoot.make()
        var configuration = OriginConfiguration()
        configuration.root = root.path
        configuration.tls = try await certificates.server("localhost")
        configuration.tls?.listen = "127.0.0.1:0"
        change(&configuration)
        return (root, try await RunningOrigin(configuration))
    }

    /// The protocol curl used and how many connections it opened, per URL (`-w`).
    static func protocols(_ arguments: [String]) async throws -> [String] {
        let result = try await Command.runDetached("curl", ["-s", "-o", "/dev/null", "-w", "%{http_version} %{num_connects}\\n"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// Every VOD answer over HTTP/2 (the router on each stream) is the plain HTTP/1.1 answer
    /// (fast path or router): status, body and every header but Date and the HTTP/1-only
    /// connection headers. Ranges, 304, HEAD, gzip, CORS preflight, 404, 414 and /healthz.
    @Test func http2AnswersAsHTTP1Does() async throws {
        let certificates = try await TestCertificates.make()
        let (root, origin) = try await Self.serve(certificates)
        defer { Task { await origin.stop() } }
        let secure = "https://127.0.0.1:\(try #require(origin.securePort))", plain = origin.base
        let trust = ["--cacert", certificates.root]
        #expect(try await Self.protocols(trust + ["--http2", secure + "/healthz"]) == ["2 1"])
        #expect(try await Self.protocols(trust + ["--http1.1", secure + "/healthz"]) == ["1.1 1"])

        let segment = "/vod/demo/video_360p/seg_1.m4s"
        let etag = try #require(try await curl([plain + segment]).headers["etag"])
        // Over the cache's largest entry: plain HTTP/1.1 sends it with `sendfile`, TLS and
        // HTTP/2 from the router's reads; a client's own `kerf-sendfile` field changes nothing.
        let large = "/vod/demo/large.m4s"
        try Data((0..<(origin.server.vod.cache.largestEntry + 4321)).map { UInt8(truncatingIfNeeded: $0 >> 3) })
            .write(to: root.appendingPathComponent("demo/large.m4s"))
        let requests: [[String]] = [
            [segment], [segment], ["-H", "Range: bytes=100-199", segment], ["-H", "If-None-Match: \(etag)", segment],
            ["-H", "If-None-Match: \"other\"", segment], ["-I", "/vod/demo/master.m3u8"], ["--compressed", "/vod/demo/manifest.mpd"],
            ["/vod/demo/master.m3u8"], ["-X", "OPTIONS", "-H", "Origin: https://player.example", "-H", "Access-Control-Request-Method: GET",
                                        "/vod/demo/master.m3u8"],
            [large], ["-H", "Range: bytes=7-8000000", large], ["-H", "\(SendfileBody.field): forged.1", large],
            ["/vod/demo/nothing.m4s"], ["/vod/" + String(repeating: "a", count: 5000)], ["/healthz"], ["/vod/../secret.txt"],
        ]
        let hopByHop: Set<String> = ["date", "connection", "keep-alive", "transfer-encoding"]
        for request in requests {
            let path = try #require(request.last), options = Array(request.dropLast())
            let overHTTP1 = try await curl(["--http1.1"] + options + [plain + path])
            let overHTTP2 = try await curl(trust + ["--http2"] + options + [secure + path])
            #expect(overHTTP1.status == overHTTP2.status, "\(request)")
            // (With -I curl writes the response head as the body: its status line differs.)
            #expect(options.contains("-I") || overHTTP1.body == overHTTP2.body, "\(request)")
            #expect(overHTTP1.headers.filter { !hopByHop.contains($0.key) } == overHTTP2.headers.filter { !hopByHop.contains($0.key) },
                    "\(request)")
        }
        let whole = try Data(contentsOf: root.appendingPathComponent("demo" + segment.dropFirst("/vod/demo".count)))
        let range = try await curl(trust + ["--http2", "-H", "Range: bytes=100-199", secure + segment])
        #expect(range.status == 206 && range.body == whole[100..<200])
        let largeOverTLS = try await curl(trust + ["--http1.1", secure + large])
        let largeContent = try Data(contentsOf: root.appendingPathComponent("demo/large.m4s"))
        #expect(largeOverTLS.status == 200 && largeOverTLS.body == largeContent)
        // Answers the connection ends with (`Connection: close`: the router answers, then
        // closes once the answer's end is written) arrive whole over TLS, paced.
        for (path, content) in [(segment, whole), (large, largeContent)] {
            let closing = try await curl(trust + ["--http1.1", "-H", "Connection: close", secure + path])
            #expect(closing.status == 200 && closing.body == content, "\(path): \(closing.body.count) of \(content.count) bytes")
        }
    }

    /// AsyncHTTPClient trusting only the test root negotiates HTTP/2 and gets the files; the
    /// chain (certificate and intermediate) comes from the server.
    @Test func asyncHTTPClientGetsHTTP2OverTLS() async throws {
        let certificates = try await TestCertificates.make()
        let (root, origin) = try await Self.serve(certificates)
        defer { Task { await origin.stop() } }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(certificates.root)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            for file in ["master.m3u8", "video_360p/init.mp4", "video_360p/seg_2.m4s"] {
                let url = "https://localhost:\(try #require(origin.securePort))/vod/demo/\(file)"
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                #expect(response.status == .ok && response.version == .http2, "\(file)")
                let body = try await response.body.collect(upTo: 16 << 20)
                #expect(Data(buffer: body) == (try Data(contentsOf: root.appendingPathComponent("demo/\(file)"))))
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

// In OriginTests, which runs one test at a time: the count of refused connections is the
// process's, and connectionLimitsHold checks it.
extension OriginTests {
    /// A connection over max-connections is answered 503 in the protocol it negotiated; a
    /// connection that never completes its handshake is closed after the header timeout.
    @Test func limitsApplyOverTLS() async throws {
        let certificates = try await TestCertificates.make()
        let (_, origin) = try await OriginTLSTests.serve(certificates) {
            $0.maxConnections = 1
            // The silent connection holds the only place while both refusals are asked for: on a
            // busy machine two TLS handshakes by curl have taken over a second.
            $0.headerTimeout = 4
            $0.listen = "127.0.0.1:0"
        }
        defer { Task { await origin.stop() } }
        let port = try #require(origin.securePort)
        let opened = Date()
        let silent = try RawConnection(port: port, receiveTimeout: 20)
        defer { silent.close() }
        let trust = ["--cacert", certificates.root]
        for version in ["--http2", "--http1.1"] {
            let refused = try await curl(trust + [version, "https://127.0.0.1:\(port)/healthz"])
            #expect(refused.status == 503 && refused.headers["retry-after"] == "1", "\(version)")
        }
        #expect(silent.receive().closed)
        #expect(Date().timeIntervalSince(opened) < 12)
        try await waitUntil("the silent connection to be forgotten", timeout: .seconds(10)) {
            (try? await curl(trust + ["--http2", "https://127.0.0.1:\(port)/healthz"]).status) == 200
        }
    }
}
