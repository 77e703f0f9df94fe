import KerfLive
import NIOCore

/// Puts off an HTTP/2 connection's flushes while its event loop writes a burst of held answers
/// (`AnswerBurst`): NIO's HTTP/2 multiplexer flushes the connection for each stream answered
/// outside a read, so 100 held streams of one connection would otherwise cost 100 TLS
/// encryption passes and 100 `write`s. Sits between TLS and the HTTP/2 handler; writes pass
/// through, and the flush comes once the burst is over.
final class BurstFlush: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any

    /// A flush is put off until the end of the running burst. (A context flushed after its
    /// handler has left the pipeline, the connection torn down meanwhile, passes nothing on.)
    private var pending = false

    func flush(context: ChannelHandlerContext) {
        guard !pending else { return }
        let deferred = AnswerBurst.deferUntilEnd { [self] in
            pending = false
            context.flush()
        }
        if deferred {
            pending = true
        } else {
            context.flush()
        }
    }
}
