import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import NIOTLS

/// A TLS connection of the origin: the handshake with the current `ServerCertificate`, then
/// what ALPN chose. HTTP/1.1 (chosen, or no ALPN) gets `OriginHTTPChannel`'s pipeline on the
/// decrypted bytes, fast path, held-request gate and limits included; HTTP/2 gets
/// Hummingbird's multiplexer, each stream answered by the router with the held-request gate in
/// front of it, and `BurstFlush` after TLS (held streams answered together flush once). Both
/// write through `TLSWritePacer`, which hands TLS a slice at a time as the socket takes it.
/// Connections count against `max-connections` from the moment they are accepted; one too many
/// is answered 503 in whichever protocol it negotiated, then closed.
struct OriginTLSChannel: Sendable {
    let http1: OriginHTTPChannel
    let http2: HTTP2Channel
    /// HTTP/2 for connections over the limit: every stream is answered 503.
    let refusingHTTP2: HTTP2Channel
    let certificate: ServerCertificate
    let handshakeTimeout: TimeAmount

    init(responder: @escaping HTTPChannelHandler.Responder, configuration: OriginConfiguration, certificate: ServerCertificate,
         connections: ConnectionCount, fastPath: VODResponder?, gate: (@Sendable () -> HeldRequestGate)?) {
        http1 = OriginHTTPChannel(responder: responder, configuration: configuration, connections: connections, fastPath: fastPath, gate: gate)
        // A connection without open streams is idle; a held request is an open stream.
        let idle = Duration.seconds(configuration.idleTimeout)
        http2 = HTTP2Channel(responder: responder, configuration: .init(
            idleTimeout: idle, streamConfiguration: .init(additionalChannelHandlers: gate.map { [$0()] } ?? [])))
        refusingHTTP2 = HTTP2Channel(responder: responder, configuration: .init(
            idleTimeout: idle, streamConfiguration: .init(additionalChannelHandlers: [StreamRefusal()])))
        self.certificate = certificate
        handshakeTimeout = .seconds(Int64(configuration.headerTimeout))
    }

    /// Sets up an accepted connection (`OriginListener.Initializer`): the handshake, then
    /// HTTP/2 with its task at once, or HTTP/1.1 whose task comes when the router is needed.
    func initialize(_ channel: any Channel, tasks: ConnectionTasks, logger: Logger) -> EventLoopFuture<Void> {
        let admitted = http1.admit(channel, logger: logger)
        let (http1, http2) = (self.http1, admitted ? self.http2 : refusingHTTP2)
        do {
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(NIOSSLServerHandler(context: certificate.current))
            try operations.addHandler(TLSWritePacer())
            try operations.addHandler(HandshakeTimer(timeout: handshakeTimeout))
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Void> { result, channel in
                switch result {
                case .negotiated("h2"):
                    return http2.setup(channel: channel, logger: logger).flatMapThrowing { value in
                        // Streams answered in one burst of held answers leave in one flush.
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(BurstFlush(), position: .after(try operations.handler(type: TLSWritePacer.self)))
                        tasks.run { await http2.handle(value: value, logger: logger) }
                    }
                case .negotiated("http/1.1"), .fallback:
                    return http1.configure(channel, admitted: admitted, secure: true, tasks: tasks, logger: logger)
                case .negotiated:
                    return channel.close().flatMapThrowing { throw ChannelError.operationUnsupported }
                }
            }
            try operations.addHandler(negotiation)
            negotiation.protocolNegotiationResult.whenFailure { error in
                // The handshake failed or timed out.
                logger.debug("TLS connection ended before HTTP", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    /// What `OriginListener` sets accepted connections up with.
    static func initializer(_ configuration: OriginConfiguration, certificate: ServerCertificate, responder: RouterResponder,
                            connections: ConnectionCount, fastPath: VODResponder?, gate: (@Sendable () -> HeldRequestGate)?,
                            logger: Logger) -> OriginListener.Initializer {
        let tls = OriginTLSChannel(responder: responder.responder, configuration: configuration, certificate: certificate, connections: connections,
                                   fastPath: fastPath, gate: gate)
        return { channel, tasks in tls.initialize(channel, tasks: tasks, logger: logger) }
    }
}

/// Closes a connection whose TLS handshake has not completed within the header timeout
/// (a client that opens connections and never finishes the handshake holds no slot for long).
final class HandshakeTimer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount
    private var deadline: LoopDeadlines.Token?
    private var deadlines: LoopDeadlines?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel, deadlines = LoopDeadlines.on(context.eventLoop)
        self.deadlines = deadlines
        deadline = deadlines.schedule(in: timeout) { channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            deadlines?.cancel(deadline)
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlines?.cancel(deadline)
        deadline = nil
    }
}

/// Answers every request of an HTTP/2 stream 503 with Retry-After (the connection is one
/// over `max-connections`), then closes the connection.
final class StreamRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head = unwrapInboundIn(data) else { return }
        let body = ByteBuffer(string: "too many connections, retry shortly\n")
        let response = HTTPResponse(status: .serviceUnavailable, headerFields: [
            .retryAfter: "1", .cacheControl: "no-store", .contentType: "text/plain", .contentLength: "\(body.readableBytes)",
        ])
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let connection = context.channel.parent
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in connection?.close(promise: nil) }
    }
}
