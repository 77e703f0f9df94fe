import HTTPTypes
import HummingbirdCore
import KerfCore
import NIOCore
import NIOHTTPTypes

/// The origin's fast path, on the event loop: a plain GET or HEAD of a VOD file the `FileCache`
/// holds is answered right here, without the trip through the async router. Everything else
/// (a Range, a conditional or gzip request, a miss, tokens, the live routes) goes on to
/// Hummingbird unchanged, and the answers are the same bytes and headers either way.
///
/// It sits after Hummingbird's connection state handler (which thus sees every request and
/// response: keep-alive, `Connection: close` and idle timeouts behave the same) and answers only
/// when no earlier request of the connection is still being answered, so pipelined responses
/// keep their order.
final class CachedFileResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The VOD files, their cache and the configuration (CORS is in each file's cached head).
    private let vod: VODResponder
    /// Requests handed on whose response has not ended yet.
    private var inFlight = 0
    /// The rest of a request answered here (its end) is dropped.
    private var dropping = false
    /// A request answered here asked to close: what follows it is dropped.
    private var closing = false
    private var date = DateHeader()

    init(vod: VODResponder) {
        self.vod = vod
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let request):
            // Only while nothing else is being answered (pipelined answers keep their order) and
            // the socket takes more (a client that does not read gets Hummingbird's backpressure).
            if inFlight == 0, context.channel.isWritable, let answer = answer(request) {
                let start = ContinuousClock.now
                dropping = true
                context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
                if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                if request.headerFields[.connection]?.lowercased() == "close" {
                    // As Hummingbird does after such a request: the connection ends with it.
                    closing = true
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
                } else {
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
                OriginMetrics.requests.record(route: "/vod/**", method: request.method, status: 200, duration: ContinuousClock.now - start)
                if let body = answer.body { OriginMetrics.bytesServed["vod"]?.increment(by: Int64(body.readableBytes)) }
                return
            }
            inFlight += 1
            context.fireChannelRead(data)
        case .body:
            if !dropping { context.fireChannelRead(data) }
        case .end:
            if dropping { dropping = false } else { context.fireChannelRead(data) }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inFlight = max(0, inFlight - 1) }
        context.write(data, promise: promise)
    }

    /// The response when the request can be answered here: GET/HEAD of `/vod/…` without a body,
    /// range, condition or gzip, whose file is in the cache.
    private func answer(_ request: HTTPRequest) -> (head: HTTPResponse, body: ByteBuffer?)? {
        guard request.method == .get || request.method == .head, let target = request.path,
              target.utf8.count <= vod.configuration.maxURLLength, target.hasPrefix("/vod/") else { return nil }
        let fields = request.headerFields
        guard fields[.range] == nil, fields[.ifNoneMatch] == nil, fields[.ifModifiedSince] == nil,
              fields[.contentLength] == nil, fields[.transferEncoding] == nil else { return nil }
        let path = target.prefix { $0 != "?" && $0 != "#" }.dropFirst("/vod/".count)
        guard let served = vod.fastServed(path, acceptEncoding: fields[.acceptEncoding], stale: false),
              var head = served.fastHead, let contents = served.file.contents else { return nil }
        date.refresh()
        head.headerFields[.date] = date.value
        return (head, request.method == .head ? nil : contents)
    }
}
