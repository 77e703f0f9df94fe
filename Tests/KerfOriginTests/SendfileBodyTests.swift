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

/// `SendfileBody`: marked requests, the router's file answers turned into a head, a file region
/// and the end, and the connection closed when a file in flight shrinks. On real sockets in
/// `OriginTests.uncachedFilesGoWithSendfile`.
@Suite(.tags(.unit)) struct SendfileBodyTests {
    static func channel(_ registry: SendfileRegistry) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(SendfileBody(registry: registry, logger: Logger(label: "test")))
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

    @Test func getsAreMarkedWithTheProcessMarkOnly() throws {
        let channel = try Self.channel(SendfileRegistry())
        var forged = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/vod/a/b.m4s")
        forged.headers.add(name: SendfileBody.field, value: "forged")
        try channel.writeInbound(HTTPServerRequestPart.head(forged))
        var head = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/vod/a/b.m4s")
        head.headers.add(name: SendfileBody.field, value: "forged")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        guard case .head(let marked) = try channel.readInbound(as: HTTPServerRequestPart.self),
              case .head(let unmarked) = try channel.readInbound(as: HTTPServerRequestPart.self) else {
            Issue.record("no heads passed on")
            return
        }
        #expect(marked.headers[SendfileBody.field] == [SendfileBody.mark])
        #expect(unmarked.headers[SendfileBody.field].isEmpty)
        #expect(SendfileBody.mark.count >= 32)
        _ = try channel.finish()
    }

    /// The router's answer names a registered range: the head goes out without the field, then
    /// the range as a file region, then the end.
    @Test func anAnswerLeftToTheHandlerGetsItsFileRegion() throws {
        let registry = SendfileRegistry()
        let (file, dir) = try Self.openFile(size: 300_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        var request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/vod/a/big.m4s")
        request.headerFields[SendfileBody.fieldName] = SendfileBody.mark
        #expect(SendfileBody.accepts(Request(head: request, body: RequestBody(buffer: ByteBuffer()))))
        request.headerFields[SendfileBody.fieldName] = "forged"
        #expect(!SendfileBody.accepts(Request(head: request, body: RequestBody(buffer: ByteBuffer()))))

        var fields = HTTPFields()
        fields[.contentLength] = "1000"
        let routed = SendfileBody.response(Response(status: .partialContent, headers: fields), file: file, range: 100...1099, registry: registry)
        #expect(routed.body.contentLength == 0 && routed.headers[.contentLength] == "1000")
        let token = try #require(routed.headers[SendfileBody.fieldName])
        #expect(registry.count == 1)

        let channel = try Self.channel(registry)
        var head = HTTPResponseHead(version: .http1_1, status: .partialContent)
        head.headers.add(name: "Content-Length", value: "1000")
        head.headers.add(name: SendfileBody.field, value: token)
        try channel.writeOutbound(HTTPServerResponsePart.head(head))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(registry.count == 0)
        guard case .head(let sent) = try channel.readOutbound(as: HTTPServerResponsePart.self),
              case .body(.fileRegion(let region)) = try channel.readOutbound(as: HTTPServerResponsePart.self),
              case .end = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("not a head, a file region and the end")
            return
        }
        #expect(sent.headers[SendfileBody.field].isEmpty && sent.headers["Content-Length"] == ["1000"])
        #expect(region.readerIndex == 100 && region.endIndex == 1100)
        // The region's handle gave the file's descriptor back, open, once written.
        #expect(throws: (any Error).self) { try region.fileHandle.withUnsafeFileDescriptor { _ in } }
        #expect(fcntl(try #require(file.descriptor).rawValue, F_GETFD) != -1)
        #expect(channel.isActive)
        _ = try channel.finish()
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
        let channel = try Self.channel(registry)
        let token = registry.register(file, range: 0..<300_000)
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: SendfileBody.field, value: token)
        // Written, not flushed: the region stays in flight.
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.end(nil), promise: nil)
        channel.embeddedEventLoop.advanceTime(by: SendfileBody.checkInterval * 3)
        #expect(channel.isActive)
        #expect(truncate(dir.appendingPathComponent("big.m4s").path, 1000) == 0)
        channel.embeddedEventLoop.advanceTime(by: SendfileBody.checkInterval)
        #expect(!channel.isActive)
    }

    @Test func entriesNeverAnsweredGoAfterTheirLifetime() throws {
        let clock = Mutex(NIODeadline.uptimeNanoseconds(1_000_000_000_000))
        let registry = SendfileRegistry { clock.withLock { $0 } }
        let (file, dir) = try Self.openFile(size: 1000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let taken = registry.register(file, range: 0..<1000)
        #expect(registry.take(taken) != nil && registry.take(taken) == nil)
        #expect(registry.take("not a token") == nil)
        let abandoned = registry.register(file, range: 0..<1000)
        clock.withLock { $0 = $0 + SendfileRegistry.lifetime }
        let recent = registry.register(file, range: 0..<1000)
        #expect(registry.count == 2)
        clock.withLock { $0 = $0 + .seconds(1) }
        _ = registry.register(file, range: 0..<1000)
        // The abandoned entry went; the others are still there.
        #expect(registry.count == 2 && registry.take(abandoned) == nil && registry.take(recent) != nil)
    }
}
