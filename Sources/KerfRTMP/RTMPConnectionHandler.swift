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
    /// The accepted publish's pipe into its channel.
    private var publishing: FLVPipe?
    private var received: UInt64 = 0
    private var acknowledged: UInt64 = 0
    private var closed = false
    /// Counted against rtmp-max-publishers (uncounted when the connection goes).
    private var counted = false
    private var handshakeDeadline: Scheduled<Void>?
    /// Bytes read in the current bit rate window, and when it began.
    private var windowBytes = 0
    private var windowStart = NIODeadline.now()

    init(server: RTMPServer, logger: Logger) {
        self.server = server
        self.logger = logger
        handshake = RTMPHandshake(serverTime: 0, random: (0..<(RTMPHandshake.packetSize - 8)).map { _ in UInt8.random(in: 0...255) })
        // Until a publish is accepted only small (command) messages are read.
        parser = RTMPChunkParser(maximumChunkSize: server.limits.maximumChunkSize, maximumMessageSize: 64 << 10)
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        // Counted even when refused, and uncounted when it goes either way.
        counted = true
        guard server.connectionOpened() else {
            logger.warning("rtmp: connection refused, rtmp-max-publishers connections open")
            closed = true
            context.close(promise: nil)
            return
        }
        let channel = context.channel
        handshakeDeadline = context.eventLoop.scheduleTask(in: server.limits.handshakeTimeout) { [logger] in
            logger.info("rtmp: handshake not completed in time, closing")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeDeadline?.cancel()
        endPublishing()
        if counted { server.connectionClosed() }
        counted = false
        closed = true
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        var bytes = unwrapInboundIn(data)
        received += UInt64(bytes.readableBytes)
        if !checkBitRate(bytes.readableBytes) {
            return fail(context, "publisher exceeds rtmp-max-bitrate (\(server.limits.maximumBitRate) bit/s)")
        }
        pending.writeBuffer(&bytes)
        do throws(RTMPError) {
            if handshake.state != .done {
                for action in try handshake.feed(&pending) {
                    switch action {
                    case .send(let reply): context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
                    case .complete:
                        handshakeDeadline?.cancel()
                        // A connection that has not started publishing soon after goes too.
                        let channel = context.channel
                        handshakeDeadline = context.eventLoop.scheduleTask(in: server.limits.handshakeTimeout) { channel.close(promise: nil) }
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
        } catch where error.code == .handshake {
            fail(context, "bad handshake: \(error.message)")
        } catch {
            fail(context, "protocol error: \(error.message)")
        }
    }

    /// No byte for the idle timeout (an `IdleStateHandler` in front), or no accepted publish
    /// within the handshake timeout after the handshake: the connection goes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            fail(context, "idle timeout")
        } else {
            context.fireUserInboundEventTriggered(event)
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
            case .success(let pipe):
                handshakeDeadline?.cancel()
                parser.maximumMessageSize = server.limits.maximumMessageSize
                publishing = pipe
                logger.info("rtmp: publishing")
                for next in session.decide(.accept) { perform(next, context: context) }
            case .failure(let refusal):
                logger.warning("rtmp: publish refused: \(refusal.description)")
                for next in session.decide(.refuse(code: refusal.code, description: refusal.description)) { perform(next, context: context) }
            }
        case .media(let type, let timestamp, let payload):
            guard let publishing else { return }
            if !publishing.append(type: type, timestamp: timestamp, payload: payload) {
                fail(context, publishing.isFinished ? "the channel stopped reading this publisher"
                                                          : "the channel cannot keep up with this publisher")
            }
        case .cuePoint(let cue):
            publishing?.signal(cue)
        case .textData(let data):
            publishing?.signal(data)
        case .unpublish:
            logger.info("rtmp: unpublished")
            endPublishing()
        case .close(let reason):
            fail(context, reason)
        }
    }

    private func endPublishing() {
        guard let publishing else { return }
        // The channel's ingest reads to the end of the pipe, then waits for the next publisher.
        publishing.finish()
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
