import Hummingbird
import NIOCore

/// The router's request context: Hummingbird's, with the request's channel (the connection,
/// or an HTTP/2 stream of it), which paces bodies streamed from files (`OpenFile.body`).
struct OriginRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The channel the request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
