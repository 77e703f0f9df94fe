import KerfSystem
#if canImport(Glibc)
import Glibc
#endif

/// A request path resolved to a path inside a root folder, never outside it (whether it is a
/// regular file is for the opener to check on the descriptor it gets): `..` and
/// `.` segments, their percent-encodings, encoded slashes and backslashes, NUL bytes, hidden
/// names and symbolic links that lead out of the root are refused.
struct RequestPath: Equatable {
    enum Rejection: Error, Equatable {
        /// 400: the path is malformed or tries to climb out.
        case badRequest(String)
        /// 404: nothing servable there.
        case notFound
        /// 500: the file may be there but cannot be opened or read now (EIO, EMFILE).
        case unreadable(SystemError)
    }

    /// The file's real path (symbolic links resolved).
    var file: String

    /// - Parameters:
    ///   - raw: the path part of the request target, still percent-encoded, relative to the
    ///     route (e.g. `demo/video_360p/seg_1.m4s`).
    ///   - root: the real path of the folder served (see `realPath`).
    static func resolve(_ raw: Substring, under root: String) -> Result<RequestPath, Rejection> {
        let lowered = raw.lowercased()
        if lowered.contains("%2f") || lowered.contains("%5c") { return .failure(.badRequest("encoded slash")) }
        guard let decoded = percentDecoded(raw) else { return .failure(.badRequest("bad percent-encoding")) }
        if decoded.contains(0) { return .failure(.badRequest("NUL byte")) }
        if decoded.contains(UInt8(ascii: "\\")) { return .failure(.badRequest("backslash")) }
        guard let text = String(validating: decoded, as: UTF8.self) else { return .failure(.badRequest("not UTF-8")) }
        var components: [Substring] = []
        for component in text.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." || component == ".." { return .failure(.badRequest("dot segment")) }
            // Hidden names: staging folders of packages being written, editor and VCS files.
            if component.hasPrefix(".") { return .failure(.notFound) }
            components.append(component)
        }
        guard !components.isEmpty else { return .failure(.notFound) }
        let candidate = root + "/" + components.joined(separator: "/")
        guard let real = realPath(candidate), real.hasPrefix(root + "/") else { return .failure(.notFound) }
        return .success(RequestPath(file: real))
    }

    /// The canonical absolute path of `path` (see `FileSystem.realPath`).
    static func realPath(_ path: String) -> String? { FileSystem.realPath(path) }

    /// `%XX` sequences decoded (RFC 3986 §2.1); nil when a `%` is not followed by two hex digits.
    static func percentDecoded(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { out.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
