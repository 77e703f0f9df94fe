import Foundation
import HTTPTypes
import Hummingbird
import KerfTestSupport
import KerfTestTags
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing
@testable import KerfOrigin

/// `SendfileBody`: marked requests, the router's file answers turned into a head and a file
/// region, the answer's end waiting for the region, and the connection closed when a file in
/// flight shrinks. On real sockets in `OriginTests.uncachedFilesGoWithSendfile`.
@Suite(.tags(.unit)) struct SendfileBodyTests {
    /// Keeps what is written, with its promises, as a socket that takes nothing would (the
    /// embedded channel's own buffer counts only byte buffers).
    final class Stalled: ChannelOutboundHandler {
        typealias OutboundIn = HTTPServerResponsePart
        var kept: [(HTTPServerResponsePart, EventLoopPromise<Void>?)] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            kept.append((unwrapOutboundIn(data), promise))
        }
    }

    static func channel(_ registry: SendfileRegistry, stalled: Stalled? = nil, idleTimeout: TimeAmount = .seconds(30)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        if let stalled { try channel.pipeline.syncOperations.addHandler(stalled) }
        try channel.pipeline.syncOperations.addHandler(SendfileBody(registry: registry, idleTimeout: idleTimeout, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        #expect(channel.isActive)
        return channel
    }

    /// A file of `size` bytes opened through its descriptor (not read whole).
    static func openFile(size: Int) throws -> (OpenFile, URL) {
        let dir = try Fixtures.temporaryDirectory("kerf-sendfile")
        let url = dir.appendingPathComponent("big.m4s")
        try Data(count: size).write(to: url)
        guard case .success(let file) = OpenFile.open(path: url.path, wholeUpTo: 0) else { throw CommandError(message: "not opened") }
        #expect(file.descriptor != nil)
        return (file, dir)
    }

    /// The connection the channel's handler marks its GETs with (a GET passed through it).
    static func connection(of channel: EmbeddedChannel) throws -> UInt64 {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/vod/a/b.m4s")))
        guard case .head(let head) = try channel.readInbound(as: HTTPServerRequestPart.self) else { throw CommandError(message: "no head") }
        return try #require(SendfileBody.connection(of: request(head.headers[SendfileBody.field].first)))
    }

    static func request(_ mark: String?) -> Request {
        var head = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/vod/a/big.m4s")
        head.headerFields[SendfileBody.fieldName] = mark
        return Request(head: head, body: RequestBody(buffer: ByteBuffer()))
    }

    @Test func getsAreMarkedWithTheProcessSecretAndTheirConnection() throws {
        let registry = SendfileRegistry()
        let first = try Self.channel(registry), second = try Self.channel(registry)
        var forged = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/vod/a/b.m4s")
        forged.headers.add(name: SendfileBody.field, value: "forged.1")
        try first.writeInbound(HTTPServerRequestPart.head(forged))
        var head = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/vod/a/b.m4s")
        head.headers.add(name: SendfileBody.field, value: "forged.1")
        try first.writeInbound(HTTPServerRequestPart.head(head))
        guard case .head(let marked) = try first.readInbound(as: HTTPServerRequestPart.self),
              case .head(let unmarked) = try first.readInbound(as: HTTPServerRequestPart.self) else {
            Issue.record("no heads passed on")
            return
        }
        let mark = try #require(marked.headers[SendfileBody.field].first)
        #expect(marked.headers[SendfileBody.field].count == 1 && mark.hasPrefix(SendfileBody.secret + "."))
        #expect(unmarked.headers[SendfileBody.field].isEmpty)
        #expect(SendfileBody.secret.count >= 32)
        // Each connection its own number; a forged or absent mark names none.
        #expect(try Self.connection(of: first) != Self.connection(of: second))
        #expect(SendfileBody.connection(of: Self.request("forged.1")) == nil && SendfileBody.connection(of: Self.request(nil)) == nil)
        _ = try first.finish()
        _ = try second.finish()
    }

    /// The router's answer names a registered range: the head goes out without the field, then
    /// the range as a file region; once the region is written, the answer's body may end.
    @Test func anAnswerLeftToTheHandlerGetsItsFileRegion() async throws {
        let registry = SendfileRegistry()
        let (file, dir) = try Self.openFile(size: 300_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let channel = try Self.channel(registry)
        let connection = try Self.connection(of: channel)

        var fields = HTTPFields()
        fields[.contentLength] = "1000"
        let routed = try #require(SendfileBody.response(Response(status: .partialContent, headers: fields), file: file, range: 100...1099,
                                                        connection: connection, registry: registry))
        #expect(routed.body.contentLength == 1000 && routed.headers[.contentLength] == "1000")
        let token = try #require(routed.headers[SendfileBody.fieldName])
        #expect(registry.count == 1)
        // An entry is taken only by its own connection's handler.
        #expect(registry.take(token, connection: connection + 1) == nil && registry.count == 1)

        var head = HTTPResponseHead(version: .http1_1, status: .partialContent)
        head.headers.add(name: "Content-Length", value: "1000")
        head.headers.add(name: SendfileBody.field, value: token)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        #expect(registry.count == 0)
        channel.flush()
        guard case .head(let sent) = try channel.readOutbound(as: HTTPServerResponsePart.self),
              case .body(.fileRegion(let region)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("not a head and a file region")
            return
        }
        #expect(sent.headers[SendfileBody.field].isEmpty && sent.headers["Content-Length"] == ["1000"])
        #expect(region.readerIndex == 100 && region.endIndex == 1100)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        // The region's handle gave the file's descriptor back, open, once written.
        #expect(throws: (any Error).self) { try region.fileHandle.withUnsafeFileDescriptor { _ in } }
        #expect(fcntl(try #require(file.descriptor).rawValue, F_GETFD) != -1)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func theAnswerWaitsForItsRegionAndFailsWithTheConnection() throws {
        let registry = SendfileRegistry()
        let (file, dir) = try Self.openFile(size: 300_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let channel = try Self.channel(registry)
        let connection = try Self.connection(of: channel)
        let written = try #require(registry.register(file, range: 0..<300_000, connection: connection))
        let notTaken = try #require(registry.register(file, range: 0..<10, connection: connection))
        var outcomes: [String: Bool] = [:]
        written.sent.whenComplete { outcomes["written"] = (try? $0.get()) != nil }
        notTaken.sent.whenComplete { outcomes["not taken"] = (try? $0.get()) != nil }
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: SendfileBody.field, value: written.token)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        #expect(outcomes.isEmpty)
        channel.flush()
        #expect(outcomes == ["written": true])
        // The connection goes: what it had not taken fails, and nothing more is registered.
        _ = try channel.finish()
        #expect(outcomes == ["written": true, "not taken": false])
        #expect(registry.count == 0)
        #expect(registry.register(file, range: 0..<10, connection: connection) == nil)
    }

    /// Records whether the router's answer body finished.
    final class Finished: Sendable {
        let value = Mutex(false)
    }

    struct RecordingWriter: ResponseBodyWriter {
        let finished: Finished

        mutating func write(_ buffer: ByteBuffer) async throws {}

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
            finished.value.withLock { $0 = true }
        }
    }

    /// The answer's body ends when its bytes have been sent, and fails (Hummingbird then closes
    /// the connection) when they cannot be: it never ends before.
    @Test func theAnswersBodyEndsWithItsBytes() async throws {
        let registry = SendfileRegistry()
        let (file, dir) = try Self.openFile(size: 300_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        for sent in [true, false] {
            let channel = try Self.channel(registry)
            let connection = try Self.connection(of: channel)
            let routed = try #require(SendfileBody.response(Response(status: .ok), file: file, range: 0...299_999, connection: connection,
                                                            registry: registry))
            if sent {
                var head = HTTPResponseHead(version: .http1_1, status: .ok)
                head.headers.add(name: SendfileBody.field, value: try #require(routed.headers[SendfileBody.fieldName]))
                try channel.writeOutbound(HTTPServerResponsePart.head(head))
            }
            _ = try channel.finish()
            let finished = Finished()
            var ended = true
            do { try await routed.body.write(RecordingWriter(finished: finished)) } catch { ended = false }
            #expect(ended == sent, "sent \(sent)")
            #expect(finished.value.withLock { $0 } == sent, "sent \(sent)")
        }
    }

    @Test func anAnswerWhoseEntryIsGoneClosesTheConnection() throws {
        let channel = try Self.channel(SendfileRegistry())
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "Content-Length", value: "1000")
        head.headers.add(name: SendfileBody.field, value: "12")
        try channel.writeOutbound(HTTPServerResponsePart.head(head))
        #expect(!channel.isActive)
    }

    /// A file cut short while its region is in flight: the connection closes at the next look.
    @Test func aFileThatShrinksInFlightClosesTheConnection() throws {
        let registry = SendfileRegistry()
        let (file, dir) = try Self.openFile(size: 300_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let stalled = Stalled()
        let channel = try Self.channel(registry, stalled: stalled)
        let entry = try #require(registry.register(file, range: 0..<300_000, connection: try Self.connection(of: channel)))
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: SendfileBody.field, value: entry.token)
        channel.writeAndFlush(HTTPServerResponsePart.head(head), promise: nil)
        #expect(stalled.kept.count == 2)
        channel.embeddedEventLoop.advanceTime(by: SendfileBody.checkInterval * 3)
        #expect(channel.isActive)
        #expect(truncate(dir.appendingPathComponent("big.m4s").path, 1000) == 0)
        channel.embeddedEventLoop.advanceTime(by: SendfileBody.checkInterval)
        #expect(!channel.isActive)
    }

    /// A client that takes none of the bytes is closed after the idle timeout.
    @Test func aClientThatTakesNothingIsClosedAfterTheIdleTimeout() throws {
        let registry = SendfileRegistry()
        let (file, dir) = try Self.openFile(size: 300_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let channel = try Self.channel(registry, stalled: Stalled(), idleTimeout: .seconds(1))
        let entry = try #require(registry.register(file, range: 0..<300_000, connection: try Self.connection(of: channel)))
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: SendfileBody.field, value: entry.token)
        channel.writeAndFlush(HTTPServerResponsePart.head(head), promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1000))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(400))
        #expect(!channel.isActive)
    }
}
