import NIOCore
import NIOEmbedded
import Testing
@testable import KerfOrigin
import KerfTestTags

/// The router's handlers come to a connection only when a request needs them: the raw path
/// answers the others without them, and ends a connection without them itself.
@Suite(.tags(.unit)) struct RouterAttachmentTests {
    /// Stands for the router's handlers: the bytes it is handed.
    final class RouterStandIn: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var received = ""

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received += buffer.readString(length: buffer.readableBytes) ?? ""
        }
    }

    /// A raw path whose router's handlers are `RouterStandIn`, made when asked for; the number
    /// of times they were made.
    final class Connection {
        let channel: EmbeddedChannel
        let activity = ConnectionActivity()
        let standIn = RouterStandIn()
        var made = 0

        init(_ vod: VODResponder) throws {
            channel = EmbeddedChannel()
            let attachment = RouterAttachment { [self] in
                made += 1
                try channel.pipeline.syncOperations.addHandler(standIn)
            }
            try channel.pipeline.syncOperations.addHandler(RawRequestResponder(vod: vod, activity: activity, idleTimeout: .seconds(30),
                                                                               sendsFiles: false, router: attachment))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        }
    }

    static let plain = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nHost: kerf\r\n\r\n"
    static let range = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n"

    @Test func theyAreMadeOnceWhenARequestFirstNeedsThem() async throws {
        let connection = try Connection(try await RawRequestResponderTests.responder())
        let channel = connection.channel
        try channel.writeInbound(ByteBuffer(string: Self.plain + Self.plain))
        #expect(try RawRequestResponderTests.written(channel).components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3)
        #expect(connection.made == 0)
        // A Range request is the router's: its handlers are there before its bytes go on.
        try channel.writeInbound(ByteBuffer(string: Self.range + Self.plain))
        #expect(connection.made == 1)
        #expect(connection.standIn.received == Self.range)
        connection.activity.routerAnswered?()
        channel.embeddedEventLoop.run()
        #expect(try RawRequestResponderTests.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        try channel.writeInbound(ByteBuffer(string: Self.range))
        #expect(connection.made == 1)
        #expect(connection.standIn.received == Self.range + Self.range)
    }

    /// A request this path cannot frame hands the connection to them for good.
    @Test func aRequestHandedOnForGoodMakesThem() async throws {
        let connection = try Connection(try await RawRequestResponderTests.responder())
        let post = "POST /vod/pkg/a.m3u8 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
        try connection.channel.writeInbound(ByteBuffer(string: post))
        #expect(connection.made == 1)
        #expect(connection.standIn.received == post)
    }

    /// Graceful shutdown and the client's half-close end a connection without them once the
    /// answers written here have been sent (they would have closed it).
    @Test(arguments: [false, true]) func shutdownAndHalfCloseCloseTheConnection(halfClose: Bool) async throws {
        let connection = try Connection(try await RawRequestResponderTests.responder())
        let channel = connection.channel
        try channel.writeInbound(ByteBuffer(string: Self.plain + "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nHost"))
        #expect(try RawRequestResponderTests.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        if halfClose {
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        } else {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(connection.made == 0)
    }

    /// With them there, the same events go on to them (Hummingbird closes the connection).
    @Test func withThemTheEventsGoOn() async throws {
        let connection = try Connection(try await RawRequestResponderTests.responder())
        let channel = connection.channel
        try channel.writeInbound(ByteBuffer(string: Self.range))
        let recorder = EventRecorder<ByteBuffer>()
        try channel.pipeline.syncOperations.addHandler(recorder)
        connection.activity.routerAnswered?()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(channel.isActive)
        #expect(recorder.events.count == 1)
    }
}
