import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// What answers a request that reaches Hummingbird's handlers (HTTP/1.1 past the raw path, and
/// every HTTP/2 stream): the router, with the Date and Server headers on every response and
/// 500 for an error the router did not turn into a response (what Hummingbird's `Application`
/// does around its router; the origin runs its own listeners instead of `Application`'s).
final class RouterResponder: Sendable {
    let router: Router<OriginRequestContext>.Responder
    let serverName: String
    let logger: Logger
    private let date = Mutex(DateHeader())

    init(router: Router<OriginRequestContext>, serverName: String, logger: Logger) {
        self.router = router.buildResponder()
        self.serverName = serverName
        self.logger = logger
    }

    /// The responder Hummingbird's HTTP/1.1 and HTTP/2 channels call.
    var responder: HTTPChannelHandler.Responder {
        { [self] request, writer, channel in
            let context = OriginRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await router.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                // Hummingbird answers it 400 and closes the connection.
                throw error
            } catch {
                logger.debug("request failed", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError, body: .init())
            }
            response.headers[.date] = httpDate()
            response.headers[.server] = serverName
            do {
                try await writer.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                // Not the request's fault: the connection ends without a second response.
                throw ResponseNotWritten()
            }
        }
    }

    struct ResponseNotWritten: Error {}

    /// The HTTP date of this second.
    private func httpDate() -> String {
        date.withLock { date in
            date.refresh()
            return date.value
        }
    }
}
