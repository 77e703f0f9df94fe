import Hummingbird
import KerfCore
import NIOCore

/// Serves the files of package directories under the root: content types, byte ranges, HEAD,
/// validators (ETag, Last-Modified) with conditional GET, cache headers a CDN can trust, CORS and
/// gzip for manifests.
struct VODResponder: Sendable {
    let root: String
    let configuration: OriginConfiguration
    let cache: FileCache
    /// Cached files at least this large get a sealed copy the fast path sends with `sendfile`
    /// (`Int.max`: none, when no plain HTTP listener has the fast path).
    let sealFrom: Int

    /// Files from this size on are sent with `sendfile` by the fast path on plain HTTP.
    static let sendfileFrom = 128 * 1024

    init(root: String, configuration: OriginConfiguration) {
        self.root = root
        self.configuration = configuration
        cache = FileCache(capacity: configuration.fileCacheMiB << 20)
        // The fast path sends files only where no TLS is above it.
        sealFrom = Self.hasFastPath(configuration) && !configuration.listenIsSecure ? Self.sendfileFrom : .max
    }

    /// Whether plain `/vod/` requests have the raw fast path: not when playback needs signed URLs.
    static func hasFastPath(_ configuration: OriginConfiguration) -> Bool {
        configuration.tokenSecret == nil
    }

    /// Access-Control-Expose-Headers of every response when CORS is on.
    static let corsExposedHeaders = "Content-Length, Content-Range, ETag, Last-Modified, Age"

    /// Adds the CORS headers of every response (when `cors:` is on).
    static func addCORS(to headers: inout HTTPFields) {
        headers[.accessControlAllowOrigin] = "*"
        headers[.accessControlExposeHeaders] = corsExposedHeaders
    }

    /// Largest manifest compressed for a response; bigger ones are sent as they are.
    static let maxGzipBytes = 4 << 20

    /// The cached file the fast path answers a plain request of `raw` with: held whole (so
    /// with its ready-made heads), and not a manifest the client takes gzipped.
    /// - Parameter stale: as in `FileCache.lookup`.
    func fastServed(_ raw: Substring, acceptEncoding: String?, stale: Bool) -> ServedFile? {
        guard let served = cache.lookup(raw, stale: stale), served.rawHead != nil else { return nil }
        if served.isManifest, configuration.gzip, Self.acceptsGzip(acceptEncoding) { return nil }
        return served
    }

    /// Answers a GET or HEAD for `raw` (the percent-encoded path below `/vod/`).
    /// - Parameter channel: the request's channel, which paces a body streamed from the file.
    func respond(to request: Request, raw: Substring, pacedBy channel: (any Channel)? = nil) async throws -> Response {
        let served: ServedFile
        if let cached = cache.lookup(raw) {
            served = cached
        } else {
            // Read whole (and cached) for a plain GET only: a HEAD, a Range or a revalidation
            // does not need the bytes.
            let plain = request.method == .get && request.headers[.range] == nil && request.headers[.ifNoneMatch] == nil
                && request.headers[.ifModifiedSince] == nil
            // An expired entry is kept when its file is unchanged: a look, not a read.
            let previous = plain ? cache.previous(raw) : nil
            switch await OpenFile.open(raw: raw, root: root, wholeUpTo: plain ? cache.largestEntry : -1, sealFrom: sealFrom,
                                       reusing: previous?.file) {
            case .success(let opened):
                if let previous, previous.file === opened {
                    served = previous
                } else {
                    served = ServedFile(file: opened, path: raw, configuration: configuration)
                }
                if plain { cache.store(raw, served) }
            case .failure(.badRequest(let why)):
                cache.remove(raw)
                return Self.error(.badRequest, "bad path: \(why)", maxAge: nil)
            case .failure(.notFound):
                // A file gone from disk leaves the cache too (an expired entry would otherwise
                // keep answering while others refresh it).
                cache.remove(raw)
                return Self.error(.notFound, "not found", maxAge: 10)
            case .failure(.unreadable):
                // Not cacheable: a CDN keeping a 404 for a file that is there would be worse.
                cache.remove(raw)
                return Self.error(.internalServerError, "cannot read the file", maxAge: nil)
            }
        }
        let file = served.file
        var headers = served.headers
        let gzip = configuration.gzip && served.isManifest && file.size <= Self.maxGzipBytes
            && Self.acceptsGzip(request.headers[.acceptEncoding])
        let etag = gzip ? served.gzipETag : served.etag
        if gzip { headers[.eTag] = etag }

        if Self.notModified(request, etag: etag, modified: file.modified) { return Self.notModifiedResponse(headers) }
        if gzip {
            let compressed = try await served.gzipped()
            headers[.contentEncoding] = "gzip"
            headers[.contentLength] = String(compressed.readableBytes)
            return Response(status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: compressed))
        }
        // Range applies to GET only (RFC 9110 §14.2); HEAD describes the whole representation.
        var sent: ClosedRange<Int>?
        let response = RangeRequest.response(to: request, size: file.size, headers: headers) { range in
            sent = range
            return file.body(range, pacedBy: channel)
        }
        // Bytes not in memory go with `sendfile` where the connection can (plain HTTP/1.1).
        if let range = sent, !file.holds(range), file.descriptor != nil, let connection = SendfileBody.connection(of: request),
           let handedOver = SendfileBody.response(response, file: file, range: range, connection: connection) {
            return handedOver
        }
        return response
    }

    /// A 304 without Content-Length (it would have to be the 200's length, RFC 9110 §8.6;
    /// HTTP/1.1's encoder drops the empty body's 0, HTTP/2 would send it).
    static func notModifiedResponse(_ headers: HTTPFields) -> Response {
        var response = Response(status: .notModified, headers: headers)
        response.headers[.contentLength] = nil
        return response
    }

    /// If-None-Match (weak comparison, RFC 9110 §13.1.2) wins over If-Modified-Since.
    static func notModified(_ request: Request, etag: String, modified: Int64) -> Bool {
        let candidates = request.headers[values: .ifNoneMatch].flatMap { $0.split(separator: ",") }
            .map { $0.trimming(while: { $0 == " " }) }
        if !candidates.isEmpty {
            let opaque = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
            return candidates.contains { $0 == "*" || $0 == Substring(opaque) || $0 == Substring("W/" + opaque) }
        }
        if request.method == .get || request.method == .head, let since = request.headers[.ifModifiedSince].flatMap(UTCTime.parseHTTPDate) {
            return Double(modified) <= since
        }
        return false
    }

    /// True when Accept-Encoding lists gzip (or *) with a non-zero quality.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.lowercased().split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimming(while: { $0 == " " }) }
            guard let coding = parts.first, coding == "gzip" || coding == "*" else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if quality > 0 { return true }
        }
        return false
    }

    /// A short plain-text error response; `maxAge` lets CDNs cache 404s briefly.
    static func error(_ status: HTTPResponse.Status, _ message: String, maxAge: Int?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = maxAge.map { "public, max-age=\($0)" } ?? "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}
