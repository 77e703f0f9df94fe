import Hummingbird

/// What a `Range` header asks of a resource of known size (RFC 9110 §14.2).
enum RangeRequest: Equatable {
    /// No usable Range header (absent, another unit, or several ranges): send it all with 200.
    case whole
    /// One satisfiable range: send it with 206.
    case part(ClosedRange<Int>)
    /// A well-formed range that misses the resource: 416.
    case unsatisfiable

    /// - Parameters:
    ///   - header: the Range header value, if any.
    ///   - size: the resource's size in bytes.
    init(_ header: String?, size: Int) {
        // The unit name is case-insensitive (RFC 9110 §14.1).
        guard let header, header.prefix(6).lowercased() == "bytes=", !header.contains(",") else { self = .whole; return }
        let spec = header.dropFirst(6).trimming(while: { $0 == " " })
        guard let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        let digits: (Substring) -> Bool = { !$0.isEmpty && $0.count <= 18 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
        if first.isEmpty {
            // A suffix: the last N bytes.
            guard digits(last), let count = Int(last) else { self = .whole; return }
            guard count > 0, size > 0 else { self = .unsatisfiable; return }
            self = .part(max(0, size - count)...(size - 1))
            return
        }
        guard digits(first), let start = Int(first) else { self = .whole; return }
        var end = size - 1
        if !last.isEmpty {
            guard digits(last), let value = Int(last), value >= start else { self = .whole; return }
            end = min(value, size - 1)
        }
        self = start < size ? .part(start...end) : .unsatisfiable
    }
}

extension RangeRequest {
    /// The response for a GET or HEAD of a resource of `size` bytes: 206 for one satisfiable
    /// range (GET only; an If-Range that matches neither the ETag nor Last-Modified asks for
    /// the whole), 416 for an unsatisfiable one, else 200 (no body for HEAD).
    /// - Parameters:
    ///   - headers: the representation's headers (ETag, Last-Modified, Content-Type…); with
    ///     `Accept-Ranges: none`, Range is ignored and the answer is always 200.
    ///   - body: the bytes of a range of the resource.
    static func response(to request: Request, size: Int, headers: HTTPFields,
                         body: (ClosedRange<Int>) -> ResponseBody) -> Response {
        var headers = headers
        let ranges = request.method == .get && headers[.acceptRanges] != "none"
        var range = ranges ? RangeRequest(request.headers[.range], size: size) : .whole
        if let ifRange = request.headers[.ifRange], ifRange != headers[.eTag], ifRange != headers[.lastModified] { range = .whole }
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            headers[.cacheControl] = nil
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .part(let part):
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(size)"
            headers[.contentLength] = String(part.count)
            return Response(status: .partialContent, headers: headers, body: body(part))
        case .whole:
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers,
                            body: request.method == .head || size == 0 ? ResponseBody() : body(0...(size - 1)))
        }
    }
}
