import NIOCore

/// The first handler of every connection, on raw bytes: a request head must arrive whole within
/// `timeout` of its first byte, or the connection is closed (slowloris clients that trickle a
/// header line every few seconds never reach the HTTP decoder's idle logic).
///
/// The clock runs only while a head is being received: from its first byte to the blank line
/// that ends it. An idle keep-alive connection between requests is the idle timeout's business.
/// The origin accepts no request bodies, so every byte belongs to a request head.
final class RequestHeadTimer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    /// Whether the line being received has a byte other than CR (an empty line ends a head;
    /// CRLF and bare LF line ends are both accepted, as the decoder does).
    private var lineHasContent = false
    private var receivingHead = false
    private var deadline: LoopDeadlines.Token?
    private var deadlines: LoopDeadlines?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var armed = false
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if !receivingHead {
                    receivingHead = true
                    lineHasContent = false
                    armed = true
                }
                switch byte {
                case UInt8(ascii: "\n"):
                    if lineHasContent { lineHasContent = false } else { receivingHead = false }
                case UInt8(ascii: "\r"): break
                default: lineHasContent = true
                }
            }
        }
        if !receivingHead {
            deadlines?.cancel(deadline)
            deadline = nil
        } else if armed || deadline == nil {
            // A new head started in this read (possibly after a complete one): its own clock.
            let deadlines = deadlines ?? LoopDeadlines.on(context.eventLoop)
            self.deadlines = deadlines
            deadlines.cancel(deadline)
            let channel = context.channel
            deadline = deadlines.schedule(in: timeout) { channel.close(promise: nil) }
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlines?.cancel(deadline)
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlines?.cancel(deadline)
        deadline = nil
    }
}
