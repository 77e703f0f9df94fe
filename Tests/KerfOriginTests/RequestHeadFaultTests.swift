import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// 10,000 random and mutated request heads sent to a `kerf serve` process over raw sockets, 16
/// connections at a time: the process never dies, every connection is answered with an HTTP
/// status line or closed, and /healthz answers at the end. Seeded (`KERF_HEAD_SEED` replays a
/// run); a failure prints the seed and the head.
@Suite(.tags(.integration)) struct RequestHeadFaultTests {
    static let valid = [
        "GET /vod/demo/master.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
        "HEAD /vod/demo/seg_1.m4s HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n",
        "GET /vod/demo/seg_1.m4s HTTP/1.1\r\nHost: a\r\nRange: bytes=10-99\r\nIf-None-Match: \"x\"\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /vod/demo/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /live/none/master.m3u8?_HLS_msn=3 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /token/1800000000/0123456789abcdef0123456789abcdef/vod/demo/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
        "OPTIONS /vod/demo/master.m3u8 HTTP/1.1\r\nHost: a\r\nOrigin: http://x\r\n\r\n",
    ]

    /// A head made from a valid one by one or more mutations.
    static func mutated(_ random: inout SplitMix) -> [UInt8] {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func count(_ limit: UInt64) -> Int { Int(random.next() % limit) }
        var head = Array(pick(valid).utf8)
        for _ in 0...count(3) {
            let at = count(UInt64(head.count + 1))
            switch count(11) {
            case 0:  // byte flips
                for _ in 0...count(8) where !head.isEmpty { head[count(UInt64(head.count))] ^= UInt8(1 << count(8)) }
            case 1:  // truncation
                head = Array(head.prefix(at))
            case 2:  // a huge header value
                head.insert(contentsOf: Array("X-Big: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 1 + count(40_000)) + [13, 10],
                            at: min(head.count, head.firstIndex(of: 10).map { $0 + 1 } ?? 0))
            case 3:  // a bad method
                head = Array(pick(["G\u{0}T", "GETT", "", "get", "PRI", "DELETE", "CONNECT", "GET GET", String(repeating: "M", count: 5000)]).utf8)
                    + head.drop { $0 != UInt8(ascii: " ") }
            case 4:  // a bad version
                let version = Array("HTTP/1.1".utf8)
                if let range = head.firstRange(of: version) {
                    head.replaceSubrange(range, with: Array(pick(["HTTP/9.9", "HTTP/1", "HTTP/1.10", "HTTP/0.9", "http/1.1", "HTTP/1.1 x", ""]).utf8))
                }
            case 5:  // bare LF line ends
                head = head.filter { $0 != 13 || random.next() % 2 == 0 }
            case 6:  // NUL and control bytes
                head.insert(pick([0, 1, 8, 11, 12, 27, 127, 0xFF]), at: at)
            case 7:  // a long URI
                let target = "/vod/" + String(repeating: pick(["a/", "%2e%2e/", "../", "%00", "é", "%"]), count: 1 + count(20_000))
                if let space = head.firstIndex(of: 32) { head.insert(contentsOf: Array(target.utf8), at: space + 1) }
            case 8:  // many headers
                let fields = (0..<(1 + count(2000))).map { "X-\($0): v\r\n" }.joined()
                head.insert(contentsOf: Array(fields.utf8), at: min(head.count, head.firstIndex(of: 10).map { $0 + 1 } ?? 0))
            case 9:  // random bytes
                head.insert(contentsOf: (0..<(1 + count(64))).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
            default:  // framing: bodies, chunks, expectations
                head.insert(contentsOf: Array(pick(["Content-Length: 5\r\n", "Content-Length: -1\r\n", "Transfer-Encoding: chunked\r\n",
                                                    "Content-Length: 99999999999999999999\r\n", "Expect: 100-continue\r\n",
                                                    "Connection: close\r\n", "Upgrade: h2c\r\n", "Host: a\r\nHost: b\r\n"]).utf8),
                            at: min(head.count, head.firstIndex(of: 10).map { $0 + 1 } ?? 0))
            }
        }
        return head
    }

    @Test func randomAndMutatedHeadsAreAnsweredOrClosed() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-heads")
        defer { try? FileManager.default.removeItem(at: dir) }
        let package = dir.appendingPathComponent("root/demo")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try Data("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n".utf8).write(to: package.appendingPathComponent("master.m3u8"))
        try Data(repeating: 7, count: 4_000).write(to: package.appendingPathComponent("seg_1.m4s"))
        let port = try Self.freePort()
        let config = dir.appendingPathComponent("kerf.yaml")
        try Data("root: \(dir.path)/root\nlisten: 127.0.0.1:\(port)\ntoken-secret: head-fault-secret\nheader-timeout: 2\n".utf8).write(to: config)
        let server = try BackgroundProcess(Fixtures.kerf, ["serve", "--config", config.path])
        defer { server.stop() }
        try await waitUntil("kerf serve answers /healthz", timeout: .seconds(30)) { Self.health(port) }

        let seed = ProcessInfo.processInfo.environment["KERF_HEAD_SEED"].flatMap { UInt64($0) } ?? 0x6865_6164
        let heads = 10_000, lanes = 16
        let started = ContinuousClock.now
        // Threads of their own: blocking sockets would hold the few threads of the task pool.
        let collected = Collected()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for lane in 0..<lanes {
                group.enter()
                Thread {
                    let found = Self.lane(lane, of: lanes, heads: heads, seed: seed, port: port)
                    collected.append(found)
                    group.leave()
                }.start()
            }
            group.notify(queue: .global()) { done.resume() }
        }
        let failures = collected.items
        let elapsed = ContinuousClock.now - started
        print("\(heads) request heads (seed \(seed)) in \(elapsed)")
        #expect(failures.isEmpty, "seed \(seed): \(failures.prefix(10).joined(separator: "\n"))")
        #expect(server.process.isRunning, "kerf serve died (seed \(seed))")
        #expect(Self.health(port), "/healthz does not answer after the heads (seed \(seed))")
    }

    /// Heads `lane`, `lane + lanes`, … of the run: the failures met (at most 5).
    static func lane(_ lane: Int, of lanes: Int, heads: Int, seed: UInt64, port: Int) -> [String] {
        var random = SplitMix(seed: seed &+ UInt64(lane))
        var failures: [String] = []
        for index in stride(from: lane, to: heads, by: lanes) where failures.count < 5 {
            // One head in ten is random bytes, the others mutated valid heads.
            let head = index % 10 == 9 ? (0..<Int(random.next() % 512)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                                       : mutated(&random)
            if let failure = exchange(head, port: port) {
                failures.append("head \(index) (seed \(seed), lane \(lane)): \(failure): \(String(decoding: head.prefix(200), as: UTF8.self).debugDescription)")
            }
        }
        return failures
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var found: [String] = []
        func append(_ items: [String]) { lock.withLock { found += items } }
        var items: [String] { lock.withLock { found } }
    }

    /// Sends `head`, half-closes, reads to the end: nil when the answer starts with an HTTP/1.x
    /// status line or the server closed without one; else what went wrong.
    static func exchange(_ head: [UInt8], port: Int) -> String? {
        guard let connection = try? RawConnection(port: port, receiveTimeout: 10) else { return "cannot connect" }
        defer { connection.close() }
        let started = ContinuousClock.now
        let sent = connection.send(bytes: head)
        connection.finishSending()
        let (answer, closed) = connection.receiveBytes(atLeast: 1 << 20)
        if answer.isEmpty, !closed {
            // What the failure looked like from both ends, to tell a stalled server from a
            // failed read.
            let error = connection.lastReceiveError.map { String(cString: strerror($0)) } ?? "none"
            let server = connection.serverEnd(serverPort: port) ?? "not listed"
            return "neither answered nor closed after \(ContinuousClock.now - started) (head sent: \(sent), recv error: \(error), "
                + "server's end: \(server))"
        }
        if answer.isEmpty { return nil }
        let line = answer.prefix { $0 != 13 }
        let valid = line.count >= 12 && line.starts(with: Array("HTTP/1.".utf8)) && (line[line.startIndex + 7] == UInt8(ascii: "0") || line[line.startIndex + 7] == UInt8(ascii: "1"))
            && line[line.startIndex + 8] == 32 && line[(line.startIndex + 9)..<(line.startIndex + 12)].allSatisfy { $0 >= 48 && $0 <= 57 }
        return valid ? nil : "answered without a status line: \(String(decoding: answer.prefix(80), as: UTF8.self).debugDescription)"
    }

    static func health(_ port: Int) -> Bool {
        guard let connection = try? RawConnection(port: port, receiveTimeout: 5) else { return false }
        defer { connection.close() }
        connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        return connection.receive(atLeast: 1 << 16).text.hasPrefix("HTTP/1.1 200")
    }

    /// A loopback port nothing listens on (the kernel's choice for a socket bound to port 0).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw CommandError(message: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
