import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Synchronization

/// Hummingbird's HTTP/1.1 connection with the origin's limits in front of it: the request head
/// timer sees the raw bytes before the fast path and the HTTP decoder, whose header size limits
/// come from the configuration (an oversized head is answered 400 and the connection closed).
/// The decoder and the rest of Hummingbird's handlers are added when a request first needs the
/// router (`RouterAttachment`). Connections beyond `max-connections` are answered 503 with
/// Retry-After and closed at once, so a CDN can retry elsewhere instead of waiting in a backlog.
struct OriginHTTPChannel: Sendable {
    let http: HTTP1Channel
    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let connections: ConnectionCount
    let fastPath: VODResponder?
    /// Parks held LL-HLS requests on the event loop (nil without low-latency channels).
    let gate: (@Sendable () -> HeldRequestGate)?

    /// - Parameter connections: the count of open connections, shared by every listener.
    init(responder: @escaping HTTPChannelHandler.Responder, configuration: OriginConfiguration, connections: ConnectionCount,
         fastPath: VODResponder?, gate: (@Sendable () -> HeldRequestGate)?) {
        self.fastPath = fastPath
        self.gate = gate
        idleTimeout = .seconds(Int64(configuration.idleTimeout))
        // Answers the requests that reach the router; `routerHandlers` makes its pipeline, with
        // these limits.
        http = HTTP1Channel(responder: responder, configuration: .init(
            httpDecoderConfiguration: .init(maxHeaderFieldSize: configuration.maxHeaderSize,
                                            maxHeaderListSize: configuration.maxHeaderSize,
                                            maxHeaderFieldCount: 100)))
        headerTimeout = .seconds(Int64(configuration.headerTimeout))
        self.connections = connections
    }

    /// Sets up an accepted connection (`OriginListener.Initializer`).
    func initialize(_ channel: any Channel, tasks: ConnectionTasks, logger: Logger) -> EventLoopFuture<Void> {
        configure(channel, admitted: admit(channel, logger: logger), secure: false, tasks: tasks, logger: logger)
    }

    /// Counts the connection against `max-connections` until it closes; false when it is one
    /// too many (it is then answered 503 and closed).
    func admit(_ channel: any Channel, logger: Logger) -> Bool {
        let admitted = connections.open()
        let connections = connections
        channel.closeFuture.whenComplete { _ in connections.close() }
        if !admitted {
            OriginMetrics.connectionsRefused.increment()
            if connections.startRefusing() {
                logger.warning("max-connections (\(connections.limit)) open: new connections are answered 503 until some close")
            }
        }
        return admitted
    }

    /// The raw path of an admitted connection, with the router's handlers and the task that
    /// runs them made when a request first needs them (`RouterAttachment`; at once without the
    /// fast path), or the refusal of one too many (after TLS on a secure connection: the
    /// handlers see the decrypted bytes, and files are not sent with `sendfile`).
    func configure(_ channel: any Channel, admitted: Bool, secure: Bool, tasks: ConnectionTasks, logger: Logger) -> EventLoopFuture<Void> {
        let activity = ConnectionActivity()
        // One gate per connection, shared by the raw path (which parks plain held requests
        // itself) and the decoded path.
        let heldGate = gate?()
        let attachment = RouterAttachment { [self, http] in
            let router = try routerHandlers(channel, gate: heldGate, activity: activity, secure: secure, logger: logger)
            tasks.run { await http.handle(value: router, logger: logger) }
        }
        do {
            let operations = channel.pipeline.syncOperations
            guard admitted else {
                try operations.addHandler(ConnectionRefusal())
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            try operations.addHandler(RequestHeadTimer(timeout: headerTimeout))
            if let fastPath {
                try operations.addHandler(RawRequestResponder(vod: fastPath, activity: activity, idleTimeout: idleTimeout, sendsFiles: !secure,
                                                              gate: heldGate, router: attachment))
            } else {
                try attachment.attach()
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // Requests are small: a small first receive buffer (it grows when reads fill it) keeps
        // idle and held connections cheap.
        _ = channel.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
        return channel.eventLoop.makeSucceededVoidFuture()
    }

    /// Hummingbird's HTTP/1.1 handlers (what `HTTP1Channel.setup` adds) and the origin's with
    /// them, behind the raw path. On plain connections the router's file answers are sent with
    /// `sendfile`, from right before the HTTP types codec.
    private func routerHandlers(_ channel: any Channel, gate heldGate: HeldRequestGate?, activity: ConnectionActivity, secure: Bool,
                                logger: Logger) throws -> HTTP1Channel.Value {
        let operations = channel.pipeline.syncOperations
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = http.configuration.httpDecoder.maxHeaderFieldSize
        limits.maxHeaderListSize = http.configuration.httpDecoder.maxHeaderListSize
        limits.maxHeaderFieldCount = http.configuration.httpDecoder.maxHeaderFieldCount
        // Answers keep their order without NIO's pipelining handler (Hummingbird answers one
        // request at a time); errors and header validation are Hummingbird's.
        try operations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                                                   withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
        if !secure { try operations.addHandler(SendfileBody(idleTimeout: idleTimeout, logger: logger)) }
        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        // With the fast path, the raw responder keeps the idle timeout (it answers requests the
        // connection state handler never sees).
        try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: fastPath == nil ? .init(idleTimeout) : nil, logger: logger))
        // The state handler, the activity tracker (it sees every request that reaches the
        // decoder, those the gate parks too), the held-request gate, Hummingbird.
        if fastPath != nil { try operations.addHandler(ActivityTracker(activity: activity)) }
        if let heldGate { try operations.addHandler(heldGate) }
        return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }

    /// What `OriginListener` sets accepted connections up with.
    static func initializer(_ configuration: OriginConfiguration, responder: RouterResponder, connections: ConnectionCount, fastPath: VODResponder?,
                            gate: (@Sendable () -> HeldRequestGate)?, logger: Logger) -> OriginListener.Initializer {
        let http = OriginHTTPChannel(responder: responder.responder, configuration: configuration, connections: connections, fastPath: fastPath, gate: gate)
        return { channel, tasks in http.initialize(channel, tasks: tasks, logger: logger) }
    }
}

/// Answers a connection over the limit with 503 as soon as it is active and closes it; what the
/// client sends is never read.
final class ConnectionRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    private func refuse(_ context: ChannelHandlerContext) {
        let body = "too many connections, retry shortly\n"
        let refusal = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nCache-Control: no-store\r\nContent-Type: text/plain\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        let channel = context.channel
        context.writeAndFlush(NIOAny(ByteBuffer(string: refusal))).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Connections open on the server, against `max-connections`.
final class ConnectionCount: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)
    private let refusing = Atomic<Bool>(false)
    /// The most connections open at once since `takeHighWater()` last read it.
    private let highWater = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection; false when it is one too many (it is counted all the same and
    /// uncounted by `close()` like the others).
    func open() -> Bool {
        let open = count.wrappingAdd(1, ordering: .relaxed).newValue
        var highest = highWater.load(ordering: .relaxed)
        while open > highest {
            let (exchanged, original) = highWater.compareExchange(expected: highest, desired: open, ordering: .relaxed)
            if exchanged { break }
            highest = original
        }
        let admitted = open <= limit
        if admitted { refusing.store(false, ordering: .relaxed) }
        return admitted
    }

    /// Marks the count as refusing; true the first time after admitting (one log line per
    /// episode, not one per refused connection).
    func startRefusing() -> Bool {
        !refusing.exchange(true, ordering: .relaxed)
    }

    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }

    /// The connections open now.
    var current: Int { count.load(ordering: .relaxed) }

    /// The most connections open at once since the previous call (at least those open now):
    /// a burst between two looks is seen.
    func takeHighWater() -> Int {
        max(highWater.exchange(0, ordering: .relaxed), current)
    }
}
