import KerfTestSupport
import NIOCore
import NIOEmbedded
import Testing
@testable import KerfOrigin
@testable import KerfLive
import KerfTestTags

/// Held LL-HLS requests parked by the raw path, before the HTTP decoder, on an embedded channel
/// against a live window filled by hand: answered with the gate's shared answer as bytes when
/// published, what was pipelined behind them after; handed on to the router (marked) at their
/// deadline; forgotten when the client goes.
@Suite(.tags(.unit)) struct RawHeldRequestTests {
    /// A raw responder of `vod` with a held-request gate for `channel`, connected. Made after the
    /// test's last suspension: an embedded channel is used on the thread that made it only.
    static func connection(_ channel: LiveChannel, vod: VODResponder) throws -> (EmbeddedChannel, HeldRequestGate) {
        let gate = HeldRequestGate(live: LiveResponder(channels: ["news": channel]), signer: nil, maxURLLength: 4096,
                                   answers: HeldAnswers(cors: false))
        let responder = RawRequestResponder(vod: vod, activity: ConnectionActivity(), idleTimeout: .seconds(30), sendsFiles: false, gate: gate)
        let embedded = EmbeddedChannel(handler: responder)
        try embedded.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return (embedded, gate)
    }

    @Test func parkedUntilPublishedThenAnsweredWithThePipelinedRequestAfter() async throws {
        let vod = try await RawRequestResponderTests.responder()
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let (embedded, _) = try Self.connection(channel, vod: vod)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let pipelined = "GET /live/news/master.m3u8 HTTP/1.1\r\nHost: kerf\r\n\r\n"
        try embedded.writeInbound(ByteBuffer(string: "GET /live/news/video/playlist.m3u8?_HLS_msn=\(next) HTTP/1.1\r\nHost: kerf\r\n\r\n"
                                             + pipelined))
        #expect(channel.held.count == 1)
        #expect(try RawRequestResponderTests.written(embedded).isEmpty)
        #expect(try RawRequestResponderTests.handedOn(embedded).isEmpty)

        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        embedded.embeddedEventLoop.run()
        #expect(channel.held.count == 0)
        let document = try #require(channel.window.withLock { $0.documents["video/playlist.m3u8"] })
        let answer = try RawRequestResponderTests.written(embedded)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.apple.mpegurl\r\n"), "\(answer)")
        #expect(answer.contains("\r\nETag: \(document.etag)\r\n") && answer.contains("\r\nContent-Length: \(document.body.readableBytes)\r\n"))
        #expect(answer.hasSuffix("\r\n\r\n" + String(buffer: document.body)))
        // The request pipelined behind it goes on to the router once it is answered.
        #expect(try RawRequestResponderTests.handedOn(embedded) == pipelined)
        _ = try embedded.finish()
    }

    @Test func expiredRequestsGoOnMarkedAndGoneClientsAreForgotten() async throws {
        let vod = try await RawRequestResponderTests.responder()
        let (channel, _) = try HeldRequestGateTests.channel()
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let request = "GET /live/news/video/playlist.m3u8?_HLS_msn=\(next) HTTP/1.1\r\nHost: kerf\r\n\r\n"
        let (expiring, gate) = try Self.connection(channel, vod: vod)
        try expiring.writeInbound(ByteBuffer(string: request))
        #expect(channel.held.count == 1)
        channel.held.expire(now: .now + .seconds(3600))
        expiring.embeddedEventLoop.run()
        // Its head goes to the router, and the gate marks it so it is not held again.
        #expect(try RawRequestResponderTests.handedOn(expiring) == request)
        #expect(try RawRequestResponderTests.written(expiring).isEmpty)
        #expect(gate.nextHeadExpired)

        let (leaving, _) = try Self.connection(channel, vod: vod)
        try leaving.writeInbound(ByteBuffer(string: request))
        #expect(channel.held.count == 1)
        _ = try leaving.finish()
        #expect(channel.held.count == 0)
        _ = try expiring.finish()
    }

    /// Graceful shutdown waits for a parked request however long it is held (Hummingbird never
    /// saw it and would close the connection unanswered), and so does the idle timeout; a HEAD
    /// kept alive is answered with the head alone.
    @Test func shutdownAndIdleTimeoutWaitForTheParkedRequest() async throws {
        let vod = try await RawRequestResponderTests.responder()
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let (embedded, _) = try Self.connection(channel, vod: vod)
        let recorder = EventRecorder<ByteBuffer>()
        try embedded.pipeline.syncOperations.addHandler(recorder)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        try embedded.writeInbound(ByteBuffer(string: "HEAD /live/news/video/playlist.m3u8?_HLS_msn=\(next) HTTP/1.1\r\n"
                                             + "Connection: keep-alive\r\n\r\n"))
        #expect(channel.held.count == 1)
        embedded.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        // Well past the idle timeout (30 s): still parked, still open, the event still held.
        embedded.embeddedEventLoop.advanceTime(by: .seconds(120))
        #expect(recorder.events.isEmpty)
        #expect(embedded.isActive && channel.held.count == 1)

        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        embedded.embeddedEventLoop.run()
        let document = try #require(channel.window.withLock { $0.documents["video/playlist.m3u8"] })
        let answer = try RawRequestResponderTests.written(embedded)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.hasSuffix("GMT\r\nServer: \(OriginServer.serverName)\r\n\r\n"), "\(answer)")
        #expect(answer.contains("\r\nContent-Length: \(document.body.readableBytes)\r\n"))
        #expect(recorder.events.count == 1)
        _ = try embedded.finish()
    }

    /// Requests that must not be parked here go on to the router as before: a Range, a
    /// condition, a request that need not wait.
    @Test func whatIsNotPlainGoesToTheRouter() async throws {
        let vod = try await RawRequestResponderTests.responder()
        let (channel, _) = try HeldRequestGateTests.channel()
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        for request in [
            "GET /live/news/video/playlist.m3u8?_HLS_msn=\(next) HTTP/1.1\r\nRange: bytes=0-9\r\n\r\n",
            "GET /live/news/video/playlist.m3u8?_HLS_msn=\(next) HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n",
            "GET /live/news/video/playlist.m3u8 HTTP/1.1\r\nHost: kerf\r\n\r\n",
        ] {
            let (embedded, _) = try Self.connection(channel, vod: vod)
            try embedded.writeInbound(ByteBuffer(string: request))
            #expect(channel.held.count == 0, "\(request)")
            #expect(try RawRequestResponderTests.handedOn(embedded) == request)
            _ = try embedded.finish()
        }
    }
}
