import HTTPTypes
import KerfCore
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfPackager
import KerfTestTags

/// Released held requests answered by the gate itself (`HeldAnswers`), on embedded channels
/// against a live window filled by hand: what is answered there and how, and what still goes
/// on to the router.
@Suite(.tags(.unit)) struct HeldAnswerTests {
    /// Records the close requests that pass it, by mode.
    final class CloseRecorder: ChannelOutboundHandler {
        typealias OutboundIn = HTTPResponsePart
        var modes: [CloseMode] = []

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            modes.append(mode)
            context.close(mode: mode, promise: promise)
        }
    }

    /// The response parts written to the client.
    static func written(_ embedded: EmbeddedChannel) throws -> [HTTPResponsePart] {
        var parts: [HTTPResponsePart] = []
        while let part = try embedded.readOutbound(as: HTTPResponsePart.self) { parts.append(part) }
        return parts
    }

    static func request(_ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> HTTPRequestPart {
        .head(HTTPRequest(method: method, scheme: nil, authority: "kerf", path: path, headerFields: headers))
    }

    @Test func releasedPlainRequestsShareOneAnswer() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let live = LiveResponder(channels: ["news": channel])
        let answers = HeldAnswers(cors: true)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        // A GET with a request pipelined behind it, another GET, a HEAD.
        let first = try HeldRequestGateTests.connection(live, answers: answers)
        try first.writeInbound(Self.request(blocking, headers: [.connection: "keep-alive"]))
        try first.writeInbound(HTTPRequestPart.end(nil))
        try first.writeInbound(Self.request("/live/news/master.m3u8"))
        try first.writeInbound(HTTPRequestPart.end(nil))
        let second = try HeldRequestGateTests.connection(live, answers: answers)
        try second.writeInbound(Self.request(blocking))
        try second.writeInbound(HTTPRequestPart.end(nil))
        let head = try HeldRequestGateTests.connection(live, answers: answers)
        try head.writeInbound(Self.request(blocking, method: .head))
        try head.writeInbound(HTTPRequestPart.end(nil))
        #expect(channel.held.count == 3)

        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        for connection in [first, second, head] { connection.embeddedEventLoop.run() }
        #expect(channel.held.count == 0)
        // The release is timed once its last event loop has written (one loop each here).
        #expect(channel.held.largestRecentRelease?.requests == 3)
        #expect((channel.held.largestRecentRelease?.seconds ?? -1) >= 0)
        let document = try #require(channel.window.withLock { $0.documents["video/playlist.m3u8"] })
        #expect(String(buffer: document.body).contains("seg_"))

        // Answered here; only the request pipelined behind goes on to the router.
        #expect(try HeldRequestGateTests.forwarded(first) == ["/live/news/master.m3u8", "end"])
        let parts = try Self.written(first)
        try #require(parts.count == 3, "\(parts)")
        guard case .head(let response) = parts[0], case .body(let body) = parts[1], case .end = parts[2] else {
            Issue.record("not a head, a body and an end: \(parts)")
            return
        }
        #expect(response.status == .ok)
        // The router's headers, in its order.
        #expect(response.headerFields.map(\.name.canonicalName) == [
            "content-type", "cache-control", "etag", "accept-ranges", "content-length", "access-control-allow-origin",
            "access-control-expose-headers", "date", "server",
        ])
        #expect(response.headerFields[.contentType] == "application/vnd.apple.mpegurl")
        #expect(response.headerFields[.cacheControl] == "public, max-age=1")
        #expect(response.headerFields[.acceptRanges] == "none")
        #expect(response.headerFields[.eTag] == document.etag)
        #expect(response.headerFields[.contentLength] == String(document.body.readableBytes))
        #expect(response.headerFields[.server] == "kerf")
        #expect(body == document.body)
        // The window's bytes themselves, shared by every connection: no copy per response.
        func address(_ buffer: ByteBuffer) -> UnsafeRawPointer? { buffer.withUnsafeReadableBytes { $0.baseAddress } }
        #expect(address(body) == address(document.body))
        let secondParts = try Self.written(second)
        try #require(secondParts.count == 3, "\(secondParts)")
        if case .body(let secondBody) = secondParts[1] { #expect(address(secondBody) == address(document.body)) }
        #expect(try HeldRequestGateTests.forwarded(second).isEmpty)

        // HEAD: the same head, no body.
        let headParts = try Self.written(head)
        try #require(headParts.count == 2, "\(headParts)")
        if case .head(let headResponse) = headParts[0] {
            var expected = response.headerFields, got = headResponse.headerFields
            expected[.date] = nil
            got[.date] = nil
            #expect(got == expected)
        }
        #expect(try HeldRequestGateTests.forwarded(head).isEmpty)
    }

    /// Conditional, ranged and unusual requests, a head whose end has not come, and requests
    /// whose hold ends unmet go on to the router.
    @Test func theRouterAnswersWhatIsNotPlain() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let live = LiveResponder(channels: ["news": channel])
        let answers = HeldAnswers(cors: false)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        let fields: [HTTPFields] = [[.ifNoneMatch: "\"x\""], [.range: "bytes=0-1"], [.connection: "upgrade"], [.ifModifiedSince: "x"]]
        var connections: [EmbeddedChannel] = []
        for headers in fields {
            let connection = try HeldRequestGateTests.connection(live, answers: answers)
            try connection.writeInbound(Self.request(blocking, headers: headers))
            try connection.writeInbound(HTTPRequestPart.end(nil))
            connections.append(connection)
        }
        let unfinished = try HeldRequestGateTests.connection(live, answers: answers)
        try unfinished.writeInbound(Self.request(blocking))
        #expect(channel.held.count == fields.count + 1)
        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        for connection in connections {
            connection.embeddedEventLoop.run()
            #expect(try HeldRequestGateTests.forwarded(connection) == [blocking, "end"])
            #expect(try Self.written(connection).isEmpty)
        }
        unfinished.embeddedEventLoop.run()
        #expect(try HeldRequestGateTests.forwarded(unfinished) == [blocking])

        let expiring = try HeldRequestGateTests.connection(live, answers: answers)
        let later = "/live/news/video/playlist.m3u8?_HLS_msn=\(next + 1)&_HLS_part=1"
        try expiring.writeInbound(Self.request(later))
        try expiring.writeInbound(HTTPRequestPart.end(nil))
        channel.held.expire(now: .now + .seconds(60))
        expiring.embeddedEventLoop.run()
        #expect(try HeldRequestGateTests.forwarded(expiring) == [later + " expired=1", "end"])
        #expect(try Self.written(expiring).isEmpty)
    }

    /// `Connection: close`: the answer, then the end of the output (what was pipelined after it
    /// is not answered). A half-close while parked reaches the handlers behind after the answer.
    @Test func closeAndHalfCloseFollowTheAnswer() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let live = LiveResponder(channels: ["news": channel])
        let answers = HeldAnswers(cors: false)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        let recorder = CloseRecorder()
        let closing = try HeldRequestGateTests.connection(live, answers: answers, front: [recorder])
        try closing.writeInbound(Self.request(blocking, headers: [.connection: "close"]))
        try closing.writeInbound(HTTPRequestPart.end(nil))
        try closing.writeInbound(Self.request("/live/news/master.m3u8"))
        try closing.writeInbound(HTTPRequestPart.end(nil))
        let halfClosing = try HeldRequestGateTests.connection(live, answers: answers)
        let events = EventRecorder<HTTPRequestPart>()
        try halfClosing.pipeline.syncOperations.addHandler(events)
        try halfClosing.writeInbound(Self.request(blocking))
        try halfClosing.writeInbound(HTTPRequestPart.end(nil))
        halfClosing.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(events.events.isEmpty)

        HeldRequestGateTests.publishSegment(channel, epoch, index: 1)
        closing.embeddedEventLoop.run()
        halfClosing.embeddedEventLoop.run()
        #expect(try Self.written(closing).count == 3)
        #expect(recorder.modes == [.output])
        #expect(try HeldRequestGateTests.forwarded(closing).isEmpty)
        #expect(try Self.written(halfClosing).count == 3)
        #expect(try HeldRequestGateTests.forwarded(halfClosing).isEmpty)
        #expect(events.events == ["\(ChannelEvent.inputClosed)"])
    }

    /// The preload-hinted part: held until it exists, then answered here with its bytes.
    @Test func theHintedPartIsAnsweredWithItsBytes() throws {
        let (channel, epoch) = try HeldRequestGateTests.channel()
        let live = LiveResponder(channels: ["news": channel])
        let start = epoch.start.rescaled(to: 90_000) + MediaTime(value: 180_000, timescale: 90_000)
        func addPart(_ index: Int) {
            let bytes: [UInt8] = [UInt8(index), 1, 2, 3]
            let part = PartRecord(segment: 1, segmentStart: start, index: index, duration: MediaTime(value: 45_000, timescale: 90_000),
                                  independent: index == 0)
            channel.window.withLock { $0.addPart(folder: "video", epoch: epoch.id, part: part, body: ByteBuffer(bytes: bytes), etag: LiveWindow.etag(bytes)) }
            channel.publish(partsOnly: true)
        }
        addPart(0)
        let hinted = "/live/news/video/part_\(start.value)_1.m4s"
        let connection = try HeldRequestGateTests.connection(live, answers: HeldAnswers(cors: false))
        try connection.writeInbound(Self.request(hinted))
        try connection.writeInbound(HTTPRequestPart.end(nil))
        #expect(channel.held.count == 1)
        addPart(1)
        connection.embeddedEventLoop.run()
        #expect(channel.held.count == 0)
        #expect(try HeldRequestGateTests.forwarded(connection).isEmpty)
        let parts = try Self.written(connection)
        try #require(parts.count == 3, "\(parts)")
        guard case .head(let response) = parts[0], case .body(let body) = parts[1] else {
            Issue.record("not a head and a body: \(parts)")
            return
        }
        #expect(response.headerFields[.contentType] == "video/mp4")
        #expect(response.headerFields[.cacheControl] == LiveResponder.immutable)
        #expect(response.headerFields[.eTag] == LiveWindow.etag([1, 1, 2, 3]))
        #expect(Array(buffer: body) == [1, 1, 2, 3])
    }
}
