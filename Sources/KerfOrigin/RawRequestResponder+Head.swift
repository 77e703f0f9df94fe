import NIOCore

/// How the fast path reads a request head: where it ends, whether it can be a request, and what
/// it asks for. Pure functions of the bytes.
extension RawRequestResponder {
    /// Whether a line of `buffer` ends with an LF that has no CR before it.
    static func hasBareLineFeed(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            bytes.indices.contains { bytes[$0] == 10 && ($0 == 0 || bytes[$0 - 1] != 13) }
        }
    }

    /// Whether `buffer` can be the start of a request line: a method (token characters) not yet
    /// followed by anything but a space. Empty lines before the request line are allowed.
    static func canStartRequest(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            var index = bytes.startIndex
            while index < bytes.endIndex, bytes[index] == 13 || bytes[index] == 10 { index += 1 }
            let method = index
            while index < bytes.endIndex, isTokenByte(bytes[index]) { index += 1 }
            guard index < bytes.endIndex else { return true }
            return index > method && bytes[index] == UInt8(ascii: " ")
        }
    }

    /// The length of the request head at the start of `buffer` (through its blank line), or
    /// nil when it has not all arrived.
    static func headLength(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= 4 else { return nil }
            var index = 3
            while index < bytes.count {
                if bytes[index] == 10 {
                    if bytes[index - 1] == 13, bytes[index - 2] == 10, bytes[index - 3] == 13 { return index + 1 }
                    index += 1
                } else {
                    // The blank line's LF is at least 4 bytes on when this byte is no CR or LF.
                    index += bytes[index] == 13 ? 1 : 4
                }
            }
            return nil
        }
    }

    /// What a request head is to this path.
    enum Head: Equatable {
        /// `GET` or `HEAD /vod/…` with no header that changes the answer or the connection:
        /// answered here when the cache holds the file.
        case plain(path: Substring, isHead: Bool, acceptEncoding: String?)
        /// `GET` or `HEAD /live/…` with no Range or conditional header, kept alive: parked
        /// here when it must wait (an LL-HLS blocking reload or hinted part), else the router's.
        case live(target: String, isHead: Bool)
        /// Another `GET` or `HEAD` without a body: the router answers it alone.
        case single
        /// Anything else (another method, a body, HTTP/1.0, a malformed head).
        case other
    }

    /// Classifies a head: HTTP/1.1, CRLF lines, an origin-form target of visible ASCII.
    static func parse(_ head: UnsafeRawBufferPointer, maxURLLength: Int) -> Head {
        var lines = head.split(separator: 10, omittingEmptySubsequences: false)
        // The blank line and the empty remainder after its LF.
        guard lines.count >= 3 else { return .other }
        lines.removeLast(2)
        // CRLF line ends, at most 100 header lines, no control bytes but HT inside a line.
        guard lines.count <= 101 else { return .other }
        for line in lines {
            guard line.last == 13 else { return .other }
            guard line.dropLast().allSatisfy({ ($0 >= 32 && $0 != 127) || $0 == 9 }) else { return .other }
        }
        let requestLine = lines[0].dropLast()
        let isHead: Bool
        if requestLine.starts(with: "GET /".utf8) {
            isHead = false
        } else if requestLine.starts(with: "HEAD /".utf8) {
            isHead = true
        } else {
            return .other
        }
        let targetStart = requestLine.startIndex + (isHead ? 5 : 4)
        guard let space = requestLine[targetStart...].firstIndex(of: 32),
              requestLine[(space + 1)...].elementsEqual("HTTP/1.1".utf8) else { return .other }
        let target = requestLine[targetStart..<space]
        guard target.allSatisfy({ $0 > 32 && $0 < 127 }) else { return .other }
        var plain = target.starts(with: "/vod/".utf8) && target.count <= maxURLLength
        var live = target.starts(with: "/live/".utf8) && target.count <= maxURLLength
        var acceptEncoding: String?
        for line in lines.dropFirst() {
            let field = line.dropLast()
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > field.startIndex,
                  field[field.startIndex] != 32, field[field.startIndex] != 9 else { return .other }
            let name = field[..<colon]
            guard name.allSatisfy(Self.isTokenByte) else { return .other }
            switch Self.role(of: name) {
            case .framing:
                return .other
            case .conditional:
                plain = false
                live = false
            case .connection:
                // keep-alive is HTTP/1.1's default; close (or anything else) is the decoder's,
                // with everything after it.
                let value = String(decoding: UnsafeRawBufferPointer(rebasing: field[(colon + 1)...]), as: UTF8.self)
                guard value.lowercased().trimming(while: { $0 == " " || $0 == "\t" }) == "keep-alive" else { return .other }
            case .acceptEncoding:
                acceptEncoding = String(decoding: UnsafeRawBufferPointer(rebasing: field[(colon + 1)...]), as: UTF8.self)
            case nil:
                break
            }
        }
        if live { return .live(target: String(decoding: UnsafeRawBufferPointer(rebasing: target), as: UTF8.self), isHead: isHead) }
        guard plain else { return .single }
        // The path stops at a query or fragment.
        let pathEnd = target.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.endIndex
        let path = Substring(decoding: UnsafeRawBufferPointer(rebasing: target[(targetStart + "/vod/".utf8.count)..<pathEnd]), as: UTF8.self)
        return .plain(path: path, isHead: isHead, acceptEncoding: acceptEncoding)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
             UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "^"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// What a header field means to the fast path.
    private enum FieldRole {
        /// A body or a protocol change: the decoder's.
        case framing
        /// Ranges, conditions, transfer codings: the router's.
        case conditional
        case connection, acceptEncoding
    }

    /// The header names the fast path looks at, lower-case.
    private static let fieldRoles: [(name: [UInt8], role: FieldRole)] = {
        let roles: [(String, FieldRole)] = [
            ("content-length", .framing), ("transfer-encoding", .framing), ("upgrade", .framing), ("expect", .framing),
            ("range", .conditional), ("if-range", .conditional), ("if-none-match", .conditional), ("if-match", .conditional),
            ("if-modified-since", .conditional), ("if-unmodified-since", .conditional), ("te", .conditional),
            ("connection", .connection), ("accept-encoding", .acceptEncoding),
        ]
        return roles.map { (Array($0.0.utf8), $0.1) }
    }()

    /// The role of header `name`, compared without regard to ASCII case and without copying it.
    private static func role(of name: Slice<UnsafeRawBufferPointer>) -> FieldRole? {
        fieldRoles.first { known in
            known.name.count == name.count && zip(known.name, name).allSatisfy { $0 == ($1 >= 65 && $1 <= 90 ? $1 + 32 : $1) }
        }?.role
    }
}
