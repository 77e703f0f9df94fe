import KerfManifest

/// Variable substitution (RFC 8216bis §4.3, EXT-X-DEFINE §4.4.2.3), done before any other rule
/// reads the playlist: `{$name}` in URI lines, quoted-string attribute values and
/// hexadecimal-sequence attribute values is replaced by the value of the EXT-X-DEFINE before it
/// (NAME/VALUE, IMPORT from the multivariant playlist, or QUERYPARAM from the playlist's URI).
struct HLSVariables {
    /// Variables defined so far, by name; nil values are known to exist but not their value
    /// (IMPORT of a media playlist read alone, QUERYPARAM of a local file).
    var values: [String: String?] = [:]
    var findings: [Finding] = []

    /// Attribute values of hexadecimal-sequence type that references may appear in.
    static let hexAttributes: Set<String> = ["IV", "KEYID"]
    static let clause = "\(HLSRules.rfc) §4.4.2.3"

    /// Substitutes in place and returns what the playlist defines, for its media playlists.
    /// - Parameters:
    ///   - imported: the multivariant playlist's variables when `document` is one of its media
    ///     playlists; nil when it is read alone (IMPORT cannot be checked).
    ///   - query: the query of the URI the playlist was read from, nil for a local file.
    static func substitute(_ document: inout HLSDocument, file: String, imported: [String: String?]?,
                           query: String?) -> HLSVariables {
        var variables = HLSVariables()
        // Most playlists define nothing: no copy, no scan of the lines beyond this one.
        guard document.lines.contains(where: \.mayUseVariables) else { return variables }
        let multivariant = document.isMultivariant
        for index in document.lines.indices {
            let line = document.lines[index]
            switch line.content {
            case .tag("EXT-X-DEFINE", _, let attributes?):
                variables.define(attributes, line: line.number, file: file, multivariant: multivariant, imported: imported, query: query)
            case .tag(let name, let value, var attributes?) where name != "EXT-X-DEFINE":
                var changed = false
                for a in attributes.indices where attributes[a].value.contains("{$")
                    && (attributes[a].isQuoted || hexAttributes.contains(attributes[a].name)) {
                    attributes[a].value = variables.replace(attributes[a].value, line: line.number, column: attributes[a].column, file: file)
                    changed = true
                }
                if changed {
                    document.lines[index].content = .tag(name: name, value: value, attributes: attributes)
                }
            case .uri(let uri) where uri.contains("{$"):
                document.lines[index].content = .uri(variables.replace(uri, line: line.number, column: 1, file: file))
            default:
                break
            }
        }
        return variables
    }

    mutating func add(_ rule: String, _ severity: Finding.Severity, _ message: String, line: Int, column: Int? = nil, file: String,
                      _ section: String = "§4.4.2.3") {
        findings.append(Finding(rule: rule, severity: severity, message: message, file: file, line: line, column: column,
                                reference: "\(HLSRules.rfc) \(section)"))
    }

    mutating func define(_ attributes: [HLSDocument.Attribute], line: Int, file: String, multivariant: Bool,
                         imported: [String: String?]?, query: String?) {
        let forms = ["NAME", "IMPORT", "QUERYPARAM"].filter { attributes[attribute: $0] != nil }
        guard forms.count == 1, let form = forms.first, let name = attributes[attribute: form]?.unquoted else {
            add("hls.define-invalid", .error, "EXT-X-DEFINE needs exactly one of NAME, IMPORT and QUERYPARAM", line: line, file: file)
            return
        }
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0)
            || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) else {
            add("hls.define-invalid", .error, "variable name '\(name)' is not made of [a-zA-Z0-9_-]", line: line, file: file)
            return
        }
        if form == "IMPORT" && multivariant {
            add("hls.define-invalid", .error, "IMPORT is for media playlists; a multivariant playlist defines with NAME or QUERYPARAM",
                line: line, file: file)
            return
        }
        if values.keys.contains(name) {
            add("hls.define-duplicate", .error, "variable \(name) is defined twice", line: line, file: file)
            return
        }
        switch form {
        case "NAME":
            guard let value = attributes[attribute: "VALUE"], value.isQuoted else {
                add("hls.define-invalid", .error, "EXT-X-DEFINE NAME=\"\(name)\" needs a quoted-string VALUE", line: line, file: file)
                values[name] = .some(nil)
                return
            }
            values[name] = .some(value.unquoted)
        case "IMPORT":
            if let imported {
                if let value = imported[name] {
                    values[name] = .some(value)
                } else {
                    add("hls.define-import-missing", .error, "IMPORT=\"\(name)\" names no variable of the multivariant playlist", line: line, file: file)
                    values[name] = .some(nil)
                }
            } else {
                add("hls.define-unresolved", .info, "IMPORT=\"\(name)\": read alone, the multivariant playlist's value is not known; references to it are not checked",
                    line: line, file: file)
                values[name] = .some(nil)
            }
        default:  // QUERYPARAM
            if let query {
                let pairs = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false) }
                if let pair = pairs.first(where: { $0.first.map(String.init) == name }) {
                    values[name] = .some(pair.count > 1 ? String(pair[1]).removingPercentEncodingLeniently : "")
                } else {
                    add("hls.define-queryparam-missing", .error, "QUERYPARAM=\"\(name)\" is not a query parameter of the playlist's URI",
                        line: line, file: file)
                    values[name] = .some(nil)
                }
            } else {
                add("hls.define-unresolved", .info, "QUERYPARAM=\"\(name)\": a local file has no query; references to it are not checked",
                    line: line, file: file)
                values[name] = .some(nil)
            }
        }
    }

    /// `text` with every `{$name}` replaced; undefined names are findings and stay as they are.
    mutating func replace(_ text: String, line: Int, column: Int, file: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{$") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let name = String(rest[open.upperBound..<close])
            rest = rest[rest.index(after: close)...]
            switch values[name] {
            case .some(.some(let value)): out += value
            case .some(.none): out += "{$\(name)}"  // known to exist, value unknown here
            case .none:
                add("hls.define-undefined", .error, "{$\(name)} refers to no EXT-X-DEFINE before it", line: line, column: column, file: file, "§4.3")
                out += "{$\(name)}"
            }
        }
        return out + rest
    }
}

extension HLSDocument.Line {
    /// An EXT-X-DEFINE, or a URI or attribute list with a variable reference in it.
    var mayUseVariables: Bool {
        switch content {
        case .uri(let uri): uri.utf8.contains(UInt8(ascii: "{")) && uri.contains("{$")  // the byte scan is the fast path
        case .tag(let name, let value, let attributes): attributes != nil && (name == "EXT-X-DEFINE" || value?.contains("{$") == true)
        default: false
        }
    }
}

extension String {
    /// Percent-decoded where the escapes are valid UTF-8; as it is otherwise.
    var removingPercentEncodingLeniently: String {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%"), let high = iterator.next() else { bytes.append(byte); continue }
            guard let low = iterator.next() else { bytes += [byte, high]; continue }
            if let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes += [byte, high, low]
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}
