import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1
import Synchronization

/// Hummingbird's HTTP/1.1 connection with the origin's limits in front of it: the request head
/// timer sees the raw bytes before the HTTP decoder, whose header size limits come from the
/// configuration (an oversized head is answered 400 and the connection closed). Connections
/// beyond `max-connections` are answered 503 with Retry-After and closed at once, so a CDN can
/// retry elsewhere instead of waiting in a backlog.
struct OriginHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

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
        http = HTTP1Channel(responder: responder, configuration: .init(
            // With the fast path, the raw responder keeps the idle timeout (it answers requests
            // the connection state handler never sees).
            idleTimeout: fastPath == nil ? idleTimeout : nil,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: configuration.maxHeaderSize,
                                            maxHeaderListSize: configuration.maxHeaderSize,
                                            maxHeaderFieldCount: 100)))
        headerTimeout = .seconds(Int64(configuration.headerTimeout))
        self.connections = connections
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        configure(channel, admitted: admit(channel, logger: logger), secure: false, logger: logger)
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

    /// The HTTP/1.1 pipeline of an admitted connection or the refusal of one too many (after
    /// TLS on a secure connection: the handlers see the decrypted bytes, and files are not sent
    /// with `sendfile`).
    func configure(_ channel: any Channel, admitted: Bool, secure: Bool, logger: Logger) -> EventLoopFuture<Value> {
        let activity = ConnectionActivity()
        // One gate per connection, shared by the raw path (which parks plain held requests
        // itself) and the decoded path.
        let heldGate = gate?()
        do {
            if !admitted { try channel.pipeline.syncOperations.addHandler(ConnectionRefusal()) }
            try channel.pipeline.syncOperations.addHandler(RequestHeadTimer(timeout: headerTimeout))
            if let fastPath {
                let responder = RawRequestResponder(vod: fastPath, activity: activity, idleTimeout: idleTimeout, sendsFiles: !secure,
                                                    gate: heldGate)
                try channel.pipeline.syncOperations.addHandler(responder)
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // Requests are small: a small first receive buffer (it grows when reads fill it) keeps
        // idle and held connections cheap.
        _ = channel.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
        // The fast path and the gate go right after Hummingbird's connection state handler (on
        // the channel's event loop, which the handlers belong to); on plain connections the
        // router's file answers are sent with `sendfile`, from right before its HTTP types codec.
        let handlers = NIOLoopBound((gate: heldGate, activity: activity), eventLoop: channel.eventLoop)
        return http.setup(channel: channel, logger: logger).flatMapThrowing { [fastPath] value in
            let (heldGate, activity) = handlers.value
            let operations = channel.pipeline.syncOperations
            if !secure {
                try operations.addHandler(SendfileBody(idleTimeout: idleTimeout, logger: logger), position: .before(try operations.handler(type: HTTP1ToHTTPServerCodec.self)))
            }
            guard fastPath != nil || heldGate != nil else { return value }
            let state = try operations.handler(type: HTTPConnectionStateHandler.self)
            // Each goes right after the state handler, so the order ends up: state handler,
            // activity tracker (it sees every request that reaches the decoder, those the gate
            // parks too), held-request gate, Hummingbird.
            if let heldGate { try operations.addHandler(heldGate, position: .after(state)) }
            if fastPath != nil { try operations.addHandler(ActivityTracker(activity: activity), position: .after(state)) }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http.handle(value: value, logger: logger)
    }

    /// The server builder `Application` takes.
    static func builder(_ configuration: OriginConfiguration, connections: ConnectionCount, fastPath: VODResponder?,
                        gate: (@Sendable () -> HeldRequestGate)?) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            OriginHTTPChannel(responder: responder, configuration: configuration, connections: connections, fastPath: fastPath, gate: gate)
        }
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
