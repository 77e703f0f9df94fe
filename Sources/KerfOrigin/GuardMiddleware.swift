import Hummingbird

/// Applied to every request before routing: refuses over-long request targets (414) and request
/// bodies (the origin only reads, but for the operator API's POSTs), answers CORS preflights and adds CORS headers.
struct GuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxURLLength: Int
    let cors: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if (request.head.path?.utf8.count ?? 0) > maxURLLength {
            return decorate(VODResponder.error(.uriTooLong, "request target longer than \(maxURLLength) bytes", maxAge: nil))
        }
        let length = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        // The operator API (`/api/…`) takes POSTs with a small body; everything else only reads.
        let isAPI = request.method == .post && (request.head.path ?? "").hasPrefix("/api/")
        if !isAPI, length > 0 || request.headers[.transferEncoding] != nil {
            return decorate(VODResponder.error(.contentTooLarge, "request bodies are not accepted", maxAge: nil))
        }
        if request.method == .options {
            var headers = HTTPFields()
            headers[.allow] = "GET, HEAD, OPTIONS"
            if cors {
                headers[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
                headers[.accessControlAllowHeaders] = "Range, If-None-Match, If-Modified-Since, If-Range"
                headers[.accessControlMaxAge] = "86400"
            }
            return decorate(Response(status: .noContent, headers: headers))
        }
        guard request.method == .get || request.method == .head || isAPI else {
            var response = VODResponder.error(.methodNotAllowed, "only GET, HEAD and OPTIONS", maxAge: nil)
            response.headers[.allow] = "GET, HEAD, OPTIONS"
            return decorate(response)
        }
        do {
            return decorate(try await next(request, context))
        } catch let error as HTTPError where error.status == .notFound {
            return decorate(VODResponder.error(.notFound, "not found", maxAge: 10))
        }
    }

    private func decorate(_ response: Response) -> Response {
        guard cors else { return response }
        var response = response
        VODResponder.addCORS(to: &response.headers)
        return response
    }
}
