import Logging
import NIOCore

/// One RTMP connection on an event loop: handshake, chunk stream, the publisher's session, and
/// the hand-over of its media to a live channel through an `FLVPipe`. Every failure (garbage,
/// a truncated handshake, an oversized chunk or message, a refused key, a publisher the channel
/// cannot keep up with, silence past the idle timeout) closes this connection only.
final class RTMPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: RTMPServer
    private var logger: Logger
    private var pending = ByteBuffer()
    private var handshake: RTMPHandshake
    private var parser: RTMPChunkParser
    private var session = RTMPSession()
    private var outgoingChunkSize = 128
    private var publishing: (channel: LiveChannel, pipe: FLVPipe)?
    private var received: UInt64 = 0
    private var acknowledged: UInt64 = 0
    private var closed = false
    /// Counted against rtmp-max-publishers (uncounted when the connection goes).
    private var counted = false
    private var handshakeDeadline: Scheduled<Void>?
    private var idleCheck: RepeatedTask?
    private var lastRead = NIODeadline.now()
    /// Bytes read in the current bit rate window, and when it began.
    private var windowBytes = 0
    private var windowStart = NIODeadline.now()

    init(server: RTMPServer, logger: Logger) {
        self.server = server
        self.logger = logger
        handshake = RTMPHandshake(serverTime: 0, random: (0..<(RTMPHandshake.packetSize - 8)).map { _ in UInt8.random(in: 0...255) })
        parser = RTMPChunkParser(maximumChunkSize: server.limits.maximumChunkSize, maximumMessageSize: server.limits.maximumMessageSize)
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        guard server.connectionOpened() else {
            logger.warning("rtmp: connection refused, rtmp-max-publishers connections open")
            closed = true
            context.close(promise: nil)
            return
        }
        counted = true
        let channel = context.channel
        handshakeDeadline = context.eventLoop.scheduleTask(in: server.limits.handshakeTimeout) { [logger] in
            logger.info("rtmp: handshake not completed in time, closing")
            channel.close(promise: nil)
        }
        let timeout = server.limits.idleTimeout
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] task in
            guard let self else { task.cancel(); return }
            if NIODeadline.now() - self.lastRead > timeout {
                self.logger.info("rtmp: idle timeout, closing")
                task.cancel()
                channel.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeDeadline?.cancel()
        idleCheck?.cancel()
        endPublishing()
        if counted { server.connectionClosed() }
        counted = false
        closed = true
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        var bytes = unwrapInboundIn(data)
        lastRead = .now()
        received += UInt64(bytes.readableBytes)
        if !checkBitRate(bytes.readableBytes) {
            return fail(context, "publisher exceeds rtmp-max-bitrate (\(server.limits.maximumBitRate) bit/s)")
        }
        pending.writeBuffer(&bytes)
        do {
            if handshake.state != .done {
                for action in try handshake.feed(&pending) {
                    switch action {
                    case .send(let reply): context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
                    case .complete: handshakeDeadline?.cancel()
                    }
                }
                guard handshake.state == .done else {
                    if pending.readableBytes > 2 * RTMPHandshake.packetSize + 1 { fail(context, "handshake too long") }
                    return
                }
            }
            for message in try parser.parse(&pending) {
                for action in session.handle(message) where !closed { perform(action, context: context) }
            }
            pending.discardReadBytes()
            if pending.readableBytes > parser.maximumChunkSize + 32 { fail(context, "chunk larger than the chunk size") }
            acknowledge(context)
        } catch let error as RTMPHandshake.HandshakeError {
            fail(context, "bad handshake: \(error.reason)")
        } catch let error as RTMPChunkParser.ProtocolError {
            fail(context, "protocol error: \(error.reason)")
        } catch {
            fail(context, "\(error)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context, "connection error: \(error)")
    }

    private func perform(_ action: RTMPSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let message, let chunkStream):
            context.writeAndFlush(wrapOutboundOut(message.chunks(chunkSize: outgoingChunkSize, chunkStream: chunkStream)), promise: nil)
        case .outgoingChunkSize(let size):
            outgoingChunkSize = size
        case .authorize(let name, let key):
            logger[metadataKey: "channel"] = "\(name)"
            switch server.authorize(channel: name, key: key) {
            case .success(let (channel, pipe)):
                publishing = (channel, pipe)
                logger.info("rtmp: publishing")
                for next in session.decide(.accept) { perform(next, context: context) }
            case .failure(let refusal):
                logger.warning("rtmp: publish refused: \(refusal.description)")
                for next in session.decide(.refuse(code: refusal.code, description: refusal.description)) { perform(next, context: context) }
            }
        case .media(let type, let timestamp, let payload):
            guard let publishing else { return }
            if !publishing.pipe.append(type: type, timestamp: timestamp, payload: payload) {
                fail(context, publishing.pipe.isFinished ? "the channel stopped reading this publisher"
                                                          : "the channel cannot keep up with this publisher")
            }
        case .unpublish:
            logger.info("rtmp: unpublished")
            endPublishing()
        case .close(let reason):
            fail(context, reason)
        }
    }

    private func endPublishing() {
        guard let publishing else { return }
        publishing.pipe.finish()
        publishing.channel.publisherLeft(publishing.pipe)
        self.publishing = nil
    }

    /// An Acknowledgement each time the peer's window of bytes has been received.
    private func acknowledge(_ context: ChannelHandlerContext) {
        guard let window = session.acknowledgementWindow, window > 0, received - acknowledged >= UInt64(window) else { return }
        acknowledged = received
        let ack = RTMPMessage.control(RTMPMessage.Kind.acknowledgement, UInt32(truncatingIfNeeded: received))
        context.writeAndFlush(wrapOutboundOut(ack.chunks(chunkSize: outgoingChunkSize, chunkStream: 2)), promise: nil)
    }

    /// Bytes over the last (at most) 10 s against the bit rate limit.
    private func checkBitRate(_ count: Int) -> Bool {
        let now = NIODeadline.now()
        if now - windowStart > .seconds(10) {
            windowStart = now
            windowBytes = 0
        }
        windowBytes += count
        return windowBytes * 8 <= server.limits.maximumBitRate * 10
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        guard !closed else { return }
        logger.warning("rtmp: closing connection: \(reason)")
        closed = true
        endPublishing()
        context.close(promise: nil)
    }
}
