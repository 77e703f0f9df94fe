import HTTPTypes
import Hummingbird
import KerfSystem
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Sends the bytes of VOD files the router reads through a descriptor (larger than the cache's
/// largest entry, or a Range of one not cached) with `sendfile` on plain HTTP/1.1, as the fast
/// path sends cached files: no read into user memory and no thread-pool trip per chunk.
///
/// Hummingbird's body writer takes only bytes, so the router cannot write a `FileRegion`
/// itself. This handler sits between NIO's HTTP/1.1 codec and the HTTP types codec: it marks
/// each GET it passes on with `field` (a value the client cannot know); for such a request the
/// router answers with an empty body and `field` naming a `SendfileRegistry` entry (the file and
/// the bytes announced by Content-Length); here the field is removed from the head and the
/// file's bytes written as a region between that head and the response's end. Connections with
/// TLS or HTTP/2 have no such handler, so their requests are not marked.
///
/// A file cut short while being sent leaves `sendfile` writing nothing, which NIO retries at
/// once; every `checkInterval` while regions are in flight their files are looked at (`fstat`),
/// and the connection is closed when one is shorter than what its answer announced (nginx
/// closes it too): the client sees a short body, never other bytes.
final class SendfileBody: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The private field on marked requests and on the answers left to this handler; never on
    /// the wire from the origin.
    static let field = "kerf-sendfile"
    static let fieldName = HTTPField.Name(field)!
    /// The value marking a request: random for the process, so a client cannot mark its own.
    static let mark = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
    /// How often the files of regions in flight are looked at.
    static let checkInterval = TimeAmount.milliseconds(200)

    private let registry: SendfileRegistry
    private let logger: Logger
    /// The entry of the answer whose head went out, sent at its end.
    private var pending: SendfileRegistry.Entry?
    /// Regions written and not yet sent: their files and where they end.
    private var inFlight: [(id: Int, file: OpenFile, end: Int)] = []
    private var nextID = 0
    private var check: Scheduled<Void>?

    init(registry: SendfileRegistry = .shared, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    /// Whether the router may leave the body of its answer to `request` to this handler.
    static func accepts(_ request: Request) -> Bool {
        request.headers[fieldName] == mark
    }

    /// `response` (200 or 206 for a GET, its Content-Length that of `range`) with its body left
    /// to the handler: no body, and the field naming the registered range of `file`.
    static func response(_ response: Response, file: OpenFile, range: ClosedRange<Int>,
                         registry: SendfileRegistry = .shared) -> Response {
        var headers = response.headers
        headers[fieldName] = registry.register(file, range: range.lowerBound..<(range.upperBound + 1))
        return Response(status: response.status, headers: headers, body: ResponseBody())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        if head.headers.contains(name: Self.field) { head.headers.remove(name: Self.field) }
        if head.method == .GET { head.headers.add(name: Self.field, value: Self.mark) }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.headers.contains(name: Self.field):
            let token = head.headers.first(name: Self.field) ?? ""
            head.headers.remove(name: Self.field)
            pending = registry.take(token)
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            if pending == nil {
                // Nothing to send the announced bytes from: the client must not wait for them.
                logger.error("a file answer lost its file before it was sent: closing the connection")
                context.close(promise: nil)
            }
        case .end where pending != nil:
            sendFile(context, pending!)
            pending = nil
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    private func sendFile(_ context: ChannelHandlerContext, _ entry: SendfileRegistry.Entry) {
        guard let descriptor = entry.file.descriptor else { return }
        if shrank(entry.file, end: entry.range.upperBound) { return context.close(promise: nil) }
        nextID += 1
        let id = nextID
        let (region, promise) = SharedFileRegion.make(descriptor, entry.range, keeping: entry.file, on: context.eventLoop) { [self] in
            inFlight.removeAll { $0.id == id }
            if inFlight.isEmpty {
                check?.cancel()
                check = nil
            }
        }
        inFlight.append((id, entry.file, entry.range.upperBound))
        if check == nil { scheduleCheck(context) }
        context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: promise)
    }

    /// Looks at the files in flight after `checkInterval`, and again while any are: the
    /// connection is closed when one is shorter than its region's end.
    private func scheduleCheck(_ context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.checkInterval) { [self] in
            check = nil
            guard !inFlight.isEmpty else { return }
            if inFlight.contains(where: { shrank($0.file, end: $0.end) }) { return context.close(promise: nil) }
            scheduleCheck(context)
        }
    }

    /// Whether `file` now ends before `end` (logged: its answer cannot be completed).
    private func shrank(_ file: OpenFile, end: Int) -> Bool {
        guard let size = try? file.descriptor?.status().st_size, Int(size) < end else { return false }
        logger.warning("a file shrank while being sent: closing the connection", metadata: ["size": "\(size)", "announced": "\(end)"])
        return true
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }
}
