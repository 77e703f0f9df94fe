import Hummingbird
import NIOCore

/// The router's request context: Hummingbird's, with the event loop of the request's
/// connection, which paces bodies streamed from files (`OpenFile.body`).
struct OriginRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The event loop the connection's handlers run on.
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
    }
}
