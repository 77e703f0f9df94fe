import AsyncHTTPClient
import FoundationEssentials
import KerfCore
import KerfManifest
import KerfSystem
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A playlist, MPD, key or segment read from disk or over HTTP.
struct LoadedResource: Sendable {
    var bytes: [UInt8]
    /// Where the bytes came from after redirects: relative URIs inside resolve against it.
    var location: String
    /// The response's Date header (seconds since 1970), for estimating the server's clock.
    var serverDate: Double?
}

/// Why a resource could not be read: an HTTP status, a transport failure, a missing file or a
/// limit.
struct LoadFailure: Error, Sendable, CustomStringConvertible {
    var location: String
    /// The HTTP status code of a response that was not a success.
    var status: Int?
    var reason: String

    var description: String {
        guard let status else { return reason }
        return "HTTP \(status)" + (reason.isEmpty ? "" : " \(reason)")
    }
}

/// Reads local files and http(s) URLs with the same limits: a size cap per resource, and for
/// HTTP timeouts, at most five redirects and a final URL to resolve relative references against.
actor ResourceLoader {
    /// Seconds to connect, and to wait for each read.
    let timeout: Int64
    private var client: HTTPClient?

    init(timeout: Int64 = 10) { self.timeout = min(max(timeout, 1), 3600) }

    static func isRemote(_ location: String) -> Bool {
        let lower = location.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// `reference` (a URI from a playlist or MPD) resolved against the resource it appears in
    /// (RFC 3986 §5 for URLs; the containing folder for local paths).
    static func resolve(_ reference: String, against base: String) -> String {
        if isRemote(reference) { return reference }
        if isRemote(base) {
            return URL(string: reference, relativeTo: URL(string: base))?.absoluteString ?? reference
        }
        if reference.hasPrefix("/") { return reference }
        guard let slash = base.lastIndex(of: "/") else { return reference }
        return String(base[...slash]) + reference
    }

    /// Reads `location`, or only `range` of it.
    /// - Parameter limit: largest body accepted, in bytes.
    func load(_ location: String, range: ByteRange? = nil, limit: Int) async throws(LoadFailure) -> LoadedResource {
        if let range {
            let start = range.offset ?? 0
            guard start >= 0, range.length >= 0, range.length <= limit, !start.addingReportingOverflow(range.length).overflow else {
                throw LoadFailure(location: location, reason: "byte range \(range.length)@\(range.offset ?? 0) is not a usable range")
            }
        }
        if Self.isRemote(location) { return try await fetch(location, range: range, limit: limit) }
        return LoadedResource(bytes: try Self.readFile(location, range: range, limit: limit), location: location)
    }

    /// The HTTP status a HEAD request gets (remote; a one-byte GET when HEAD is not allowed), or
    /// 200/404 for a local file. 0 when there was no answer.
    func status(of location: String) async -> Int {
        guard Self.isRemote(location) else { return access(location, R_OK) == 0 ? 200 : 404 }
        var request = HTTPClientRequest(url: location)
        request.method = .HEAD
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        do {
            var response = try await httpClient().execute(request, timeout: .seconds(timeout * 3))
            if response.status == .methodNotAllowed || response.status == .notImplemented {
                request.method = .GET
                request.headers.add(name: "Range", value: "bytes=0-0")
                response = try await httpClient().execute(request, timeout: .seconds(timeout * 3))
                _ = try? await response.body.collect(upTo: 1 << 16)
            }
            return Int(response.status.code)
        } catch {
            return 0
        }
    }

    /// Closes the HTTP client's connections; call once, when validation is over.
    func shutdown() async {
        try? await client?.shutdown()
        client = nil
    }

    // MARK: HTTP

    static let userAgent = "kerf-validate"

    private func httpClient() -> HTTPClient {
        if let client { return client }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        configuration.timeout = .init(connect: .seconds(timeout), read: .seconds(timeout))
        let created = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        client = created
        return created
    }

    private func fetch(_ location: String, range: ByteRange?, limit: Int) async throws(LoadFailure) -> LoadedResource {
        var request = HTTPClientRequest(url: location)
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        if let range {
            let start = range.offset ?? 0
            request.headers.add(name: "Range", value: "bytes=\(start)-\(start + range.length - 1)")
        }
        do {
            let response = try await httpClient().execute(request, timeout: .seconds(timeout * 3))
            let code = Int(response.status.code)
            guard (200..<300).contains(code) else {
                throw LoadFailure(location: location, status: code, reason: response.status.reasonPhrase)
            }
            if range == nil, let length = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), length > limit {
                throw LoadFailure(location: location, reason: "\(length) bytes is over the \(limit)-byte limit")
            }
            // Read no more than needed: the limit, or for a range the bytes up to its end (a
            // server that ignores Range sends the resource from its start).
            let needed = range.map { code == 206 ? $0.length : ($0.offset ?? 0) + $0.length }
            var bytes: [UInt8] = []
            for try await chunk in response.body {
                bytes += chunk.readableBytesView.prefix((needed ?? Int.max) - bytes.count)
                if let needed, bytes.count >= needed { break }
                if needed == nil, bytes.count > limit {
                    throw LoadFailure(location: location, reason: "the body is over the \(limit)-byte limit")
                }
            }
            if let range, code == 200 {
                // The server ignored Range and sent the whole resource: keep the part asked for.
                let start = range.offset ?? 0
                guard start + range.length <= bytes.count else {
                    throw LoadFailure(location: location, reason: "byte range \(range.length)@\(start) is past the end (\(bytes.count) bytes)")
                }
                bytes = Array(bytes[start..<(start + range.length)])
            } else if let range, bytes.count != range.length {
                throw LoadFailure(location: location, reason: "asked for \(range.length) bytes, got \(bytes.count)")
            }
            let final = response.url?.absoluteString ?? location
            let date = response.headers.first(name: "Date").flatMap(UTCTime.parseHTTPDate)
            return LoadedResource(bytes: bytes, location: final, serverDate: date)
        } catch let failure as LoadFailure {
            throw failure
        } catch let error as HTTPClientError {
            throw LoadFailure(location: location, reason: Self.describe(error))
        } catch let error as IOError {
            throw LoadFailure(location: location, reason: "cannot connect: \(String(cString: strerror(error.errnoCode)).lowercased())")
        } catch let error as NIOConnectionError {
            let reason = error.connectionErrors.isEmpty ? "cannot resolve host \(error.host)" : "cannot connect to \(error.host):\(error.port)"
            throw LoadFailure(location: location, reason: reason)
        } catch {
            throw LoadFailure(location: location, reason: "\(error)")
        }
    }

    private static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .connectTimeout: "connection timed out"
        case .readTimeout: "no data for too long (read timeout)"
        case .deadlineExceeded: "the request took too long"
        case .redirectLimitReached: "more than 5 redirects"
        case .redirectCycleDetected: "redirect loop"
        case .remoteConnectionClosed: "the server closed the connection"
        case .invalidURL, .emptyHost, .emptyScheme: "not a usable URL"
        default: "\(error)"
        }
    }

    // MARK: files

    private static func readFile(_ path: String, range: ByteRange?, limit: Int) throws(LoadFailure) -> [UInt8] {
        let file: SystemFile
        do throws(SystemError) { file = try .open(path, O_RDONLY | O_CLOEXEC) } catch {
            throw LoadFailure(location: path, reason: error.errno == ENOENT ? "no such file" : "cannot open: \(error.reason)")
        }
        defer { try? file.close() }
        guard let status = try? file.status(), status.st_mode & S_IFMT == S_IFREG else {
            throw LoadFailure(location: path, reason: "not a regular file")
        }
        let start = range?.offset ?? 0
        let size = Int(status.st_size)
        let length = range?.length ?? size
        if range == nil, size > limit {
            throw LoadFailure(location: path, reason: "\(size) bytes is over the \(limit)-byte limit")
        }
        guard start + length <= size else {
            throw LoadFailure(location: path, reason: "byte range \(length)@\(start) is past the end of the file (\(size) bytes)")
        }
        var bytes = [UInt8](repeating: 0, count: length)
        let count: Int
        do throws(SystemError) { count = try file.read(into: &bytes, at: start) } catch {
            throw LoadFailure(location: path, reason: "cannot read: \(error.reason)")
        }
        guard count == length else { throw LoadFailure(location: path, reason: "the file is shorter than it was a moment ago") }
        return bytes
    }
}
