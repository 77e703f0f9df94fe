import Hummingbird
import KerfCrypto

/// When an admin token is configured, the status page, `/metrics` and the operator API (`/api/…`)
/// answer only requests with `Authorization: Bearer <admin-token>` (compared in constant time);
/// without one the operator API is closed (403). Playback tokens are
/// checked by the playback route itself (`SignedURL`).
struct AdminAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let adminToken: [UInt8]?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The router ignores empty path components (`//metrics`, `/metrics/`): so does this check.
        let components = request.uri.path.split(separator: "/")
        // The operator API changes what channels publish: without an admin token it is closed.
        if components.first == "api", adminToken == nil {
            return VODResponder.error(.forbidden, "the operator API needs an admin-token in the configuration", maxAge: nil)
        }
        if let adminToken, components.isEmpty || components == ["metrics"] || components.first == "api" {
            let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? Array($0.utf8.dropFirst(7)) : nil } ?? []
            guard HMACSHA256.secretsMatch(given, adminToken) else {
                var response = VODResponder.error(.unauthorized, "an admin token is required", maxAge: nil)
                response.headers[.wwwAuthenticate] = "Bearer realm=\"kerf\""
                return response
            }
        }
        return try await next(request, context)
    }
}
