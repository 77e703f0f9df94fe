import KerfLive
import NIOCore

/// Held LL-HLS requests on the raw path: a plain blocking playlist reload or hinted part that
/// must wait is parked here, before the HTTP decoder, and answered with the gate's shared answer
/// as bytes (its head encoded once per answer, its body shared): one `writev` per connection, no
/// pass through NIO's HTTP/1.1 handlers. What the client pipelines behind it waits. One held
/// until its deadline, or whose answer is gone from the window, goes on to the router (marked
/// for the gate when it expired, so it is not held again).
extension RawRequestResponder {
    /// Registers the parked request; false when what it waits for is published already.
    func park(_ context: ChannelHandlerContext, hold: LiveResponder.Hold, resource: HeldAnswers.Resource, head: ByteBuffer) -> Bool {
        let bound = NIOLoopBound((responder: self, context: context), eventLoop: context.eventLoop)
        let ticket = hold.channel.held.hold(for: hold.channel.window, until: hold.deadline, hold.condition, on: context.eventLoop) { ready in
            bound.value.responder.released(bound.value.context, ready: ready)
        }
        guard let ticket else { return false }
        parked = (hold.channel.held, ticket, resource, head)
        activity.touch(context.eventLoop.now)
        return true
    }

    /// Writes the answer to a released request and flushes (true); false when the router must
    /// answer it (the window no longer has what it asked for).
    func writeAnswer(_ context: ChannelHandlerContext, _ resource: HeldAnswers.Resource) -> Bool {
        let start = ContinuousClock.now
        guard let answer = gate?.rawAnswer(resource) else { return false }
        context.write(wrapOutboundOut(answer.rawHead), promise: nil)
        if let body = answer.body { context.write(wrapOutboundOut(body), promise: nil) }
        context.flush()
        activity.touch(context.eventLoop.now)
        HeldAnswers.record(answer, isHead: resource.isHead, since: start)
        return true
    }

    /// What the parked request waited for is published (or its deadline passed, or the channel
    /// stopped): it is answered here, or goes on to the router; then what waited behind it.
    func released(_ context: ChannelHandlerContext, ready: Bool) {
        guard let request = parked else { return }
        parked = nil
        guard context.channel.isActive else { return }
        if ready, writeAnswer(context, request.resource) {
            process(context, inRead: false)
        } else {
            // The router answers it at once from the window (503 or 404 after an expiry).
            if !ready { gate?.nextHeadExpired = true }
            guard attachRouter(context) else { return }
            waitingForRouter = true
            context.fireChannelRead(wrapInboundOut(request.head))
            context.fireChannelReadComplete()
        }
        // Shutdown or a half-close that waited for it: the answer's bytes get the idle timeout
        // to leave from now.
        releaseHeldEvents(context, until: context.eventLoop.now + idleTimeout)
    }

    /// The connection went away: its parked request is forgotten, not answered.
    func forgetParked() {
        guard let request = parked else { return }
        parked = nil
        request.held.cancel(request.ticket)
    }
}
