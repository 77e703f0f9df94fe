import HTTPTypes
import Hummingbird
import KerfSystem
import Logging
import NIOCore
import NIOHTTP1

/// Sends the bytes of VOD files the router reads through a descriptor (larger than the cache's
/// largest entry, or a Range of one not cached) with `sendfile` on plain HTTP/1.1, as the fast
/// path sends cached files: no read into user memory and no thread-pool trip per chunk.
///
/// Hummingbird's body writer takes only bytes, so the router cannot write a `FileRegion`
/// itself. This handler sits between NIO's HTTP/1.1 codec and the HTTP types codec, and has a
/// place in the `SendfileRegistry` for its connection. It marks each GET it passes on with
/// `field` (a value the client cannot know, naming the connection). For such a request the
/// router registers the file and range under that connection and answers with `field` naming
/// the entry and a body that only waits for the entry's bytes to be sent; here the field is
/// removed from the head and the file's bytes written as a region right after it. Until they
/// are sent the request is in progress for Hummingbird, so the idle timeout, half-closes and
/// graceful shutdown wait for them as they do for a body the router streams. Connections with
/// TLS or HTTP/2 have no such handler, so their requests are not marked.
///
/// A file cut short while being sent leaves `sendfile` writing nothing, which NIO retries at
/// once for as long as the connection is open; every `checkInterval` while regions are in
/// flight their files are looked at (`fstat`), and the connection is closed when one is shorter
/// than what its answer announced (nginx closes it too): the client gets fewer bytes than
/// Content-Length announced. A client that takes none of the bytes for the idle timeout is
/// closed too (bytes that move keep it open, however slowly).
final class SendfileBody: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The private field on marked requests and on the answers left to this handler; never on
    /// the wire from the origin.
    static let field = "kerf-sendfile"
    static let fieldName = HTTPField.Name(field)!
    /// The first part of a mark: random for the process, so a client cannot mark its own.
    static let secret = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
    /// How often the files of regions in flight are looked at.
    static let checkInterval = TimeAmount.milliseconds(200)

    private let registry: SendfileRegistry
    private let logger: Logger
    private let idleTimeout: TimeAmount
    /// This connection's place in the registry (from `handlerAdded`).
    private var connection: UInt64?
    /// Regions written and not yet sent: their files and where they end.
    private var inFlight: [(id: Int, file: OpenFile, end: Int)] = []
    private var nextID = 0
    private var check: Scheduled<Void>?
    /// Bytes unsent at the last look, and when they last moved.
    private var lastBuffered = -1
    private var lastMoved = NIODeadline.uptimeNanoseconds(0)

    init(registry: SendfileRegistry = .shared, idleTimeout: TimeAmount, logger: Logger) {
        self.registry = registry
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    /// The connection whose handler marked `request`, when one did.
    static func connection(of request: Request) -> UInt64? {
        guard let mark = request.headers[fieldName], let dot = mark.firstIndex(of: "."), mark[..<dot] == secret else { return nil }
        return UInt64(mark[mark.index(after: dot)...])
    }

    /// `response` (200 or 206 for a GET, its Content-Length that of `range`) with its body left
    /// to the handler of `connection`: the field naming the registered range of `file`, and a
    /// body that ends once the handler has sent it. Nil when the connection has closed.
    static func response(_ response: Response, file: OpenFile, range: ClosedRange<Int>, connection: UInt64,
                         registry: SendfileRegistry = .shared) -> Response? {
        guard let (token, sent) = registry.register(file, range: range.lowerBound..<(range.upperBound + 1), connection: connection) else {
            return nil
        }
        var headers = response.headers
        headers[fieldName] = token
        return Response(status: response.status, headers: headers, body: ResponseBody(contentLength: range.count) { writer in
            try await sent.get()
            try await writer.finish(nil)
        })
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection = registry.open(on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        if let connection { registry.close(connection) }
        connection = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        if head.headers.contains(name: Self.field) { head.headers.remove(name: Self.field) }
        // Only VOD files (plain or signed) can be answered from a file.
        if head.method == .GET, let connection, head.uri.hasPrefix("/vod/") || head.uri.hasPrefix(SignedURL.prefix) {
            head.headers.add(name: Self.field, value: "\(Self.secret).\(connection)")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), let token = head.headers.first(name: Self.field) else {
            return context.write(data, promise: promise)
        }
        head.headers.remove(name: Self.field)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
        guard let connection, let entry = registry.take(token, connection: connection) else {
            // Nothing to send the announced bytes from: the client must not wait for them.
            logger.error("a file answer lost its file before it was sent: closing the connection")
            return context.close(promise: nil)
        }
        guard let descriptor = entry.file.descriptor, !shrank(entry.file, end: entry.range.upperBound) else {
            entry.sent.fail(SendfileRegistry.ConnectionClosed())
            return context.close(promise: nil)
        }
        nextID += 1
        let id = nextID
        let (region, written) = SharedFileRegion.make(descriptor, entry.range, keeping: entry.file, on: context.eventLoop) { [self] in
            inFlight.removeAll { $0.id == id }
            if inFlight.isEmpty {
                check?.cancel()
                check = nil
            }
        }
        written.futureResult.whenSuccess { OriginMetrics.sendfileResponses.increment() }
        written.futureResult.cascade(to: entry.sent)
        inFlight.append((id, entry.file, entry.range.upperBound))
        if check == nil {
            lastBuffered = -1
            scheduleCheck(context)
        }
        context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: written)
    }

    /// Looks at the files in flight after `checkInterval`, and again while any are: the
    /// connection is closed when one is shorter than its region's end, or when the client has
    /// taken no bytes for the idle timeout.
    private func scheduleCheck(_ context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.checkInterval) { [self] in
            check = nil
            guard !inFlight.isEmpty else { return }
            if inFlight.contains(where: { shrank($0.file, end: $0.end) }) { return context.close(promise: nil) }
            let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            let now = context.eventLoop.now
            if buffered != lastBuffered {
                lastBuffered = buffered
                lastMoved = now
            } else if now - lastMoved >= idleTimeout {
                logger.info("a client took no bytes of a file for the idle timeout: closing the connection")
                return context.close(promise: nil)
            }
            scheduleCheck(context)
        }
    }

    /// Whether `file` now ends before `end` (logged and counted: its answer cannot be completed).
    private func shrank(_ file: OpenFile, end: Int) -> Bool {
        guard let size = try? file.descriptor?.status().st_size, Int(size) < end else { return false }
        logger.warning("a file shrank while being sent: closing the connection", metadata: ["size": "\(size)", "announced": "\(end)"])
        OriginMetrics.filesShrank.increment()
        return true
    }
}
