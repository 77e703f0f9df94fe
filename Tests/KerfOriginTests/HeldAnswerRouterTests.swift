import Foundation
import KerfTestSupport
import NIOCore
import Testing
@testable import KerfOrigin
@testable import KerfLive
import KerfTestTags

/// Held LL-HLS requests answered by the gate when the part is published, against the same
/// requests answered by the router once it is: over real connections to an in-process origin
/// (a push channel without a publisher, its window filled by hand), the same bytes but for the
/// Date line, and the same counts in `/metrics`.
///
/// Real-time layer: the metrics are the process's, and the parallel layers' live tests would add
/// their own requests and bytes between the readings.
@Suite(.tags(.realtime)) struct HeldAnswerRouterTests {
    /// One HTTP/1.1 response (head and Content-Length body) read from `connection`.
    static func response(_ connection: RawConnection) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let blank = Array("\r\n\r\n".utf8)
        while true {
            if let end = bytes.indices.first(where: { bytes[$0...].starts(with: blank) }) {
                let head = String(decoding: bytes[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                if bytes.count >= end + 4 + length { return bytes }
            }
            let (more, _) = connection.receiveBytes(atLeast: 1)
            if more.isEmpty {
                throw CommandError(message: "connection ended after \(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self))")
            }
            bytes += more
        }
    }

    /// The response as text without its Date line.
    static func withoutDate(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.hasPrefix("Date: ") }.joined(separator: "\r\n")
    }

    /// The live GET answers counted in `/metrics`: requests with status 200 and body bytes.
    static func liveCounts(_ origin: RunningOrigin) async throws -> (requests: Double, bytes: Double) {
        let text = String(decoding: try await curl([origin.base + "/metrics"]).body, as: UTF8.self)
        func value(_ matches: (Substring) -> Bool) -> Double {
            text.split(separator: "\n").filter { !$0.hasPrefix("#") && matches($0) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }
        let requests = value { $0.hasPrefix("kerf_http_requests_total{") && $0.contains("route=\"/live/**\"")
            && $0.contains("method=\"GET\"") && $0.contains("status=\"200\"") }
        let bytes = value { $0.hasPrefix("kerf_http_response_bytes_total{") && $0.contains("route=\"live\"") }
        return (requests, bytes)
    }

    @Test func heldAnswersAreTheRoutersAnswers() async throws {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-held-root").path
        configuration.rtmpListen = "127.0.0.1:0"
        configuration.cors = true
        var news = OriginConfiguration.Channel(input: "rtmp", segmentDuration: 2, window: 30)
        news.partDuration = 0.5
        configuration.channels["news"] = news
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let channel = try #require(origin.server.channels["news"])
        let epoch = HeldRequestGateTests.begin(channel)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }

        // Three requests held for the next segment: a keep-alive one, one that closes its
        // connection, a delta update.
        let path = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        let requests = [
            "GET \(path) HTTP/1.1\r\nHost: kerf\r\nUser-Agent: test\r\n\r\n",
            "GET \(path) HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n",
            "GET \(path)&_HLS_skip=YES HTTP/1.1\r\nHost: kerf\r\n\r\n",
        ]
        let held = try requests.map { _ in try RawConnection(port: origin.port) }
        for (connection, request) in zip(held, requests) { #expect(connection.send(request)) }
        try await waitUntil("the requests are held", timeout: .seconds(10), poll: .milliseconds(10)) { channel.held.count == 3 }
        let before = try await Self.liveCounts(origin)
        let given = origin.server.heldAnswers.count

        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        let fannedOut = try held.map { try Self.response($0) }
        #expect(origin.server.heldAnswers.count == given + 3)
        // The connection asked to close is closed once answered.
        #expect(held[1].receive().closed)
        let afterFanOut = try await Self.liveCounts(origin)

        // The same requests now that the segment is published: the router answers them (the
        // first on the connection its held request was answered on).
        let routed = try [held[0], RawConnection(port: origin.port), RawConnection(port: origin.port)]
        for (connection, request) in zip(routed, requests) { #expect(connection.send(request)) }
        let answers = try routed.map { try Self.response($0) }
        #expect(origin.server.heldAnswers.count == given + 3)
        let afterRouter = try await Self.liveCounts(origin)

        for (fan, router) in zip(fannedOut, answers) {
            let text = String(decoding: fan, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.contains("\r\nDate: ") && text.contains("#EXTM3U"), "\(text)")
            #expect(Self.withoutDate(fan) == Self.withoutDate(router))
        }
        #expect(afterFanOut.requests - before.requests == 3)
        #expect(afterRouter.requests - afterFanOut.requests == 3)
        #expect(afterFanOut.bytes - before.bytes > 0)
        #expect(afterRouter.bytes - afterFanOut.bytes == afterFanOut.bytes - before.bytes)
    }
}
