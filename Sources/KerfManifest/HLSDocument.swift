/// An HLS playlist as written, line by line, with positions: the lossless form the validator
/// checks and the writer reproduces.
///
/// Parsing never fails on content it does not understand: unknown tags are kept as they are,
/// and problems (bad attribute lists, invalid UTF-8, over-long lines) are collected as
/// `issues` with their line and column. Only input beyond the size limits is refused.
public struct HLSDocument: Sendable, Equatable {
    /// One attribute of an attribute list (RFC 8216bis §4.2), value as written.
    public struct Attribute: Sendable, Equatable {
        public var name: String
        /// The raw value, quotes included for quoted-strings.
        public var value: String
        /// Column of the attribute name (1-based).
        public var column: Int

        /// The value without quotes when it is a quoted-string.
        public var unquoted: String {
            value.count >= 2 && value.first == "\"" && value.last == "\"" ? String(value.dropFirst().dropLast()) : value
        }
        public var isQuoted: Bool { value.count >= 2 && value.first == "\"" && value.last == "\"" }
    }

    public enum Content: Sendable, Equatable {
        /// `#EXT…` tag: name without the `#`, the text after `:` (nil if none), and its attribute
        /// list when the value parses as one.
        case tag(name: String, value: String?, attributes: [Attribute]?)
        /// A URI line.
        case uri(String)
        /// A comment (`#` not followed by `EXT`).
        case comment(String)
        case blank
    }

    public struct Line: Sendable, Equatable {
        public var number: Int
        public var content: Content
    }

    public struct Issue: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
    }

    /// Size limits that keep hostile input from costing unbounded time or memory.
    public struct Limits: Sendable {
        public var maxBytes: Int
        public var maxLineLength: Int
        public var maxLines: Int
        public var maxAttributes: Int
        public init(maxBytes: Int = 64 << 20, maxLineLength: Int = 64 << 10, maxLines: Int = 2_000_000,
                    maxAttributes: Int = 256) {
            self.maxBytes = maxBytes
            self.maxLineLength = maxLineLength
            self.maxLines = maxLines
            self.maxAttributes = maxAttributes
        }
    }

    public var lines: [Line]
    public var issues: [Issue]

    /// Tags whose value is an attribute list (RFC 8216bis §4.4).
    public static let attributeListTags: Set<String> = [
        "EXT-X-KEY", "EXT-X-MAP", "EXT-X-DATERANGE", "EXT-X-MEDIA", "EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF",
        "EXT-X-SESSION-DATA", "EXT-X-SESSION-KEY", "EXT-X-CONTENT-STEERING", "EXT-X-START", "EXT-X-DEFINE",
        "EXT-X-PART-INF", "EXT-X-PART", "EXT-X-PRELOAD-HINT", "EXT-X-SERVER-CONTROL", "EXT-X-SKIP",
        "EXT-X-RENDITION-REPORT",
    ]

    /// Parses playlist bytes.
    /// - Throws: `ManifestError(.tooLarge)` beyond `limits`; nothing else.
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(ManifestError) -> HLSDocument {
        guard bytes.count <= limits.maxBytes else {
            throw ManifestError(.tooLarge, "playlist is \(bytes.count) bytes, over the \(limits.maxBytes)-byte limit")
        }
        var document = HLSDocument(lines: [], issues: [])
        var start = 0, number = 0
        var body = bytes[...]
        if body.starts(with: [0xef, 0xbb, 0xbf]) {
            document.issues.append(Issue(line: 1, column: 1, message: "byte order mark before #EXTM3U"))
            body = body.dropFirst(3)
            start = body.startIndex
        }
        while start < body.endIndex {
            number += 1
            guard number <= limits.maxLines else {
                throw ManifestError(.tooLarge, "playlist has more than \(limits.maxLines) lines")
            }
            var end = start
            while end < body.endIndex && body[end] != 0x0a { end += 1 }
            var lineEnd = end
            if lineEnd > start && body[lineEnd - 1] == 0x0d { lineEnd -= 1 }
            var raw = body[start..<lineEnd]
            if raw.count > limits.maxLineLength {
                document.issues.append(Issue(line: number, column: 1,
                                             message: "line is \(raw.count) bytes long; only the first \(limits.maxLineLength) are read"))
                raw = raw.prefix(limits.maxLineLength)
            }
            let text: String
            if let valid = String(validating: raw, as: UTF8.self) {
                text = valid
            } else {
                document.issues.append(Issue(line: number, column: 1, message: "line is not valid UTF-8"))
                text = String(decoding: raw, as: UTF8.self)
            }
            document.lines.append(Line(number: number, content: document.classify(text, line: number, limits: limits)))
            start = end + 1
        }
        return document
    }

    private mutating func classify(_ text: String, line: Int, limits: Limits) -> Content {
        if text.allSatisfy({ $0 == " " || $0 == "\t" }) { return .blank }
        guard text.hasPrefix("#") else { return .uri(text) }
        guard text.hasPrefix("#EXT") else { return .comment(text) }
        let body = text.dropFirst()
        guard let colon = body.firstIndex(of: ":") else { return .tag(name: String(body), value: nil, attributes: nil) }
        let name = String(body[..<colon])
        let value = String(body[body.index(after: colon)...])
        var attributes: [Attribute]? = nil
        if HLSDocument.attributeListTags.contains(name) {
            let column = name.count + 3
            switch HLSDocument.parseAttributes(value, startColumn: column, limit: limits.maxAttributes) {
            case .success(let list): attributes = list
            case .failure(let problem): issues.append(Issue(line: line, column: problem.column, message: problem.message))
            }
        }
        return .tag(name: name, value: value, attributes: attributes)
    }

    struct AttributeProblem: Error { var column: Int; var message: String }

    /// Parses an attribute list; fails at the first malformed attribute.
    static func parseAttributes(_ text: String, startColumn: Int, limit: Int) -> Result<[Attribute], AttributeProblem> {
        var result: [Attribute] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        while i < chars.count {
            guard result.count < limit else {
                return .failure(AttributeProblem(column: startColumn + i, message: "more than \(limit) attributes"))
            }
            let nameStart = i
            while i < chars.count, chars[i] != "=" && chars[i] != "," { i += 1 }
            let name = String(String.UnicodeScalarView(chars[nameStart..<i]))
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
                return .failure(AttributeProblem(column: startColumn + nameStart,
                                                 message: "attribute name '\(name)' is not [A-Z0-9-]+"))
            }
            guard i < chars.count, chars[i] == "=" else {
                return .failure(AttributeProblem(column: startColumn + i, message: "attribute \(name) has no value"))
            }
            i += 1
            let valueStart = i
            if i < chars.count && chars[i] == "\"" {
                i += 1
                while i < chars.count && chars[i] != "\"" { i += 1 }
                guard i < chars.count else {
                    return .failure(AttributeProblem(column: startColumn + valueStart, message: "unterminated quoted-string for \(name)"))
                }
                i += 1
            } else {
                while i < chars.count && chars[i] != "," { i += 1 }
            }
            let value = String(String.UnicodeScalarView(chars[valueStart..<i]))
            guard !value.isEmpty else {
                return .failure(AttributeProblem(column: startColumn + valueStart, message: "attribute \(name) has an empty value"))
            }
            result.append(Attribute(name: name, value: value, column: startColumn + nameStart))
            if i < chars.count {
                guard chars[i] == "," else {
                    return .failure(AttributeProblem(column: startColumn + i, message: "expected ',' after \(name)"))
                }
                i += 1
                guard i < chars.count else {
                    return .failure(AttributeProblem(column: startColumn + i, message: "trailing ',' in attribute list"))
                }
            }
        }
        return .success(result)
    }

    /// The playlist text again: tags and URIs as parsed, one per line. A line whose text ends
    /// with a CR (a CR before the CRLF it ended with) ends with CRLF again, so parsing keeps it.
    public func serialize() -> String {
        lines.map { line -> String in
            let text = Self.text(of: line.content)
            return text.utf8.last == 0x0d ? text + "\r" : text
        }.joined(separator: "\n") + "\n"
    }

    private static func text(of content: Content) -> String {
        switch content {
        case .tag(let name, let value, let attributes):
            if let attributes {
                return "#\(name):" + attributes.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            }
            return value.map { "#\(name):\($0)" } ?? "#\(name)"
        case .uri(let uri): return uri
        case .comment(let text): return text
        case .blank: return ""
        }
    }

    /// The tags named `name`, with their line numbers.
    public func tags(_ name: String) -> [(line: Int, value: String?, attributes: [Attribute]?)] {
        lines.compactMap { line in
            if case .tag(name, let value, let attributes) = line.content { return (line.number, value, attributes) }
            return nil
        }
    }

    /// True when EXT-X-INDEPENDENT-SEGMENTS is present.
    public var isIndependent: Bool { !tags("EXT-X-INDEPENDENT-SEGMENTS").isEmpty }

    /// True when any tag only a Multivariant Playlist may hold is present.
    public var isMultivariant: Bool {
        lines.contains { line in
            if case .tag(let name, _, _) = line.content {
                return ["EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-MEDIA", "EXT-X-SESSION-DATA",
                        "EXT-X-SESSION-KEY", "EXT-X-CONTENT-STEERING"].contains(name)
            }
            return false
        }
    }
}

extension Array where Element == HLSDocument.Attribute {
    /// The first attribute named `name`.
    public subscript(attribute name: String) -> HLSDocument.Attribute? { first { $0.name == name } }
}
