import CompressNIO
import FoundationEssentials
import Hummingbird
import KerfCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Serves the files of package directories under the root: content types, byte ranges, HEAD,
/// validators (ETag, Last-Modified) with conditional GET, cache headers a CDN can trust, CORS and
/// gzip for manifests.
struct VODResponder: Sendable {
    let root: String
    let configuration: OriginConfiguration
    let fileIO = FileIO()

    /// What is known of a file from `stat`.
    struct FileAttributes {
        var size: Int
        var modified: Int64
        var modifiedNanoseconds: Int
        var inode: UInt64
    }

    /// Answers a GET or HEAD for `raw` (the percent-encoded path below `/vod/`).
    func respond(to request: Request, raw: Substring, context: some RequestContext) async throws -> Response {
        let file: String
        switch RequestPath.resolve(raw, under: root) {
        case .success(let path): file = path.file
        case .failure(.badRequest(let why)): return Self.error(.badRequest, "bad path: \(why)", maxAge: nil)
        case .failure(.notFound): return Self.error(.notFound, "not found", maxAge: 10)
        }
        var status = stat()
        guard stat(file, &status) == 0 else { return Self.error(.notFound, "not found", maxAge: 10) }
        let attributes = FileAttributes(size: Int(status.st_size), modified: Int64(status.st_mtim.tv_sec),
                                        modifiedNanoseconds: Int(status.st_mtim.tv_nsec), inode: UInt64(status.st_ino))
        let type = MediaContentType(path: file)
        var headers = HTTPFields()
        headers[.contentType] = type.mimeType
        headers[.cacheControl] = type.isManifest ? "public, max-age=\(configuration.vodManifestMaxAge)" : "public, max-age=31536000, immutable"
        headers[.lastModified] = HTTPDate.format(attributes.modified)
        headers[.acceptRanges] = "bytes"
        // Strong validator from size and modification time: stable across restarts while the
        // file is unchanged.
        var etag = "\"\(String(attributes.size, radix: 16))-\(String(attributes.modified, radix: 16))\(String(attributes.modifiedNanoseconds, radix: 16))\""
        let gzip = configuration.gzip && type.isManifest && Self.acceptsGzip(request.headers[.acceptEncoding])
        if type.isManifest && configuration.gzip { headers[.vary] = "Accept-Encoding" }
        if gzip { etag = String(etag.dropLast()) + "-gz\"" }
        headers[.eTag] = etag

        if Self.notModified(request, etag: etag, modified: attributes.modified) {
            return Response(status: .notModified, headers: headers)
        }
        if gzip {
            // Manifests are small: read whole, compress, send.
            guard attributes.size <= 64 << 20, let data = FileManager.default.contents(atPath: file) else {
                return Self.error(.notFound, "not found", maxAge: 10)
            }
            var buffer = ByteBuffer(bytes: data)
            let compressed = try buffer.compress(with: .gzip)
            headers[.contentEncoding] = "gzip"
            headers[.contentLength] = String(compressed.readableBytes)
            return Response(status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: compressed))
        }
        var range = RangeRequest(request.headers[.range], size: attributes.size)
        if let ifRange = request.headers[.ifRange], ifRange != etag, ifRange != headers[.lastModified] { range = .whole }
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(attributes.size)"
            headers[.contentLength] = "0"
            headers[.cacheControl] = nil
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .part(let part):
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(attributes.size)"
            headers[.contentLength] = String(part.count)
            let body = request.method == .head ? ResponseBody() : try await fileIO.loadFile(path: file, range: part, context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        case .whole:
            headers[.contentLength] = String(attributes.size)
            let body = request.method == .head ? ResponseBody() : try await fileIO.loadFile(path: file, context: context)
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    /// If-None-Match (weak comparison, RFC 9110 §13.1.2) wins over If-Modified-Since.
    static func notModified(_ request: Request, etag: String, modified: Int64) -> Bool {
        let candidates = request.headers[values: .ifNoneMatch].flatMap { $0.split(separator: ",") }
            .map { $0.trimming(while: { $0 == " " }) }
        if !candidates.isEmpty {
            let opaque = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
            return candidates.contains { $0 == "*" || $0 == Substring(opaque) || $0 == Substring("W/" + opaque) }
        }
        if request.method == .get || request.method == .head, let since = request.headers[.ifModifiedSince].flatMap(HTTPDate.parse) {
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
