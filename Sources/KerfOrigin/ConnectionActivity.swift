import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// What a connection is doing, shared by the handlers of one channel (all on its event loop):
/// requests being answered by the router and when the connection was last busy. The
/// `RawRequestResponder` closes a connection idle for the idle timeout from it, since requests
/// it answers itself never reach Hummingbird's connection state handler.
final class ConnectionActivity {
    /// Requests handed on to the router whose response has not ended.
    var inFlight = 0
    /// Called when the router has answered every request handed to it.
    var routerAnswered: (() -> Void)?
    /// The router's answers end the connection (`Connection: close`) or answered no request (a
    /// head the decoder refused): the raw path stops looking at the bytes.
    var routerEnding = false
    /// When a request last started or a response last ended (the event loop's clock).
    var last = NIODeadline.uptimeNanoseconds(0)

    func touch(_ now: NIODeadline) {
        last = now
    }
}

/// Counts, for `ConnectionActivity`, the requests that reach the router and their responses
/// (it sits right after Hummingbird's connection state handler).
final class ActivityTracker: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let activity: ConnectionActivity

    init(activity: ConnectionActivity) {
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            activity.inFlight += 1
            activity.touch(context.eventLoop.now)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if response.headerFields[.connection]?.lowercased().contains("close") == true { activity.routerEnding = true }
            return context.write(data, promise: promise)
        case .body:
            return context.write(data, promise: promise)
        case .end:
            break
        }
        if activity.inFlight == 0 { activity.routerEnding = true }
        activity.inFlight = max(0, activity.inFlight - 1)
        activity.touch(context.eventLoop.now)
        context.write(data, promise: promise)
        if activity.inFlight == 0 { activity.routerAnswered?() }
    }
}
