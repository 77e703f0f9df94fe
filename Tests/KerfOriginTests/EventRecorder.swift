import NIOCore

/// Records the user events that pass it (for tests that check when an event goes on).
final class EventRecorder<In>: ChannelInboundHandler {
    typealias InboundIn = In
    var events: [String] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        events.append("\(event)")
        context.fireUserInboundEventTriggered(event)
    }
}
