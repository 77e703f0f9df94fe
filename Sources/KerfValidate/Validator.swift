import FoundationEssentials
import KerfCore
import KerfManifest
import KerfXML

/// The result of validating one presentation.
public struct ValidationReport: Sendable, Codable {
    public var input: String
    /// "hls" or "dash".
    public var format: String
    /// Every playlist or MPD read.
    public var documents: [String]
    public var findings: [Finding]

    public var errors: Int { findings.filter { $0.severity == .error }.count }
    public var warnings: Int { findings.filter { $0.severity == .warning }.count }
}

/// Errors that stop validation before any rule ran: the input could not be read at all.
public struct ValidationError: ReportableError, Sendable {
    public var file: String
    public var message: String
    public var reason: String
    public init(file: String, message: String, reason: String = "") {
        self.file = file
        self.message = message
        self.reason = reason
    }
    public var subject: String? { file }
    public var summary: String { message }
    public var cause: String { reason }
    public var isInputError: Bool { true }
}

/// Validates local HLS playlists and DASH MPDs.
public struct Validator: Sendable {
    /// An XSD to validate MPDs against (`--schema`).
    public var schemaPath: String?
    /// Largest playlist or MPD read, in bytes.
    public var maxBytes = 64 << 20

    public init(schemaPath: String? = nil) { self.schemaPath = schemaPath }

    /// - Throws: `ValidationError` when the input cannot be read or is neither HLS nor DASH.
    public func validate(path: String) throws -> ValidationReport {
        if path.hasPrefix("http://") || path.hasPrefix("https://") {
            throw ValidationError(file: path, message: "cannot validate URLs yet", reason: "download the manifest and validate the local copy")
        }
        let bytes = try read(path)
        let looksXML = bytes.drop { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 || $0 == 0xef || $0 == 0xbb || $0 == 0xbf }.first == UInt8(ascii: "<")
        if looksXML || path.hasSuffix(".mpd") {
            return try validateDASH(path: path, bytes: bytes)
        }
        let start = bytes.starts(with: Array("#EXTM3U".utf8)) || bytes.starts(with: [0xef, 0xbb, 0xbf] + Array("#EXTM3U".utf8))
        guard start || path.hasSuffix(".m3u8") || path.hasSuffix(".m3u") else {
            throw ValidationError(file: path, message: "neither an HLS playlist nor a DASH MPD")
        }
        return try validateHLS(path: path, bytes: bytes)
    }

    private func read(_ path: String) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ValidationError(file: path, message: "cannot read", reason: "no such file")
        }
        if let size = attributes[.size] as? Int, size > maxBytes {
            throw ValidationError(file: path, message: "cannot read", reason: "\(size) bytes is over the \(maxBytes)-byte limit")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError(file: path, message: "cannot read", reason: "permission denied or not a file")
        }
        return [UInt8](data)
    }

    // MARK: HLS

    private func validateHLS(path: String, bytes: [UInt8]) throws -> ValidationReport {
        let document: HLSDocument
        do { document = try HLSDocument.parse(bytes, limits: .init(maxBytes: maxBytes)) } catch {
            throw ValidationError(file: path, message: "cannot read playlist", reason: error.message)
        }
        var report = ValidationReport(input: path, format: "hls", documents: [path], findings: HLSRules.common(document, file: path))
        if document.isMultivariant {
            report.findings += HLSRules.multivariant(document, file: path)
            var referenced: [(line: Int, uri: String)] = []
            var previousWasStreamInf = false
            for line in document.lines {
                switch line.content {
                case .tag("EXT-X-STREAM-INF", _, _): previousWasStreamInf = true
                case .tag(let name, _, let attributes?) where name == "EXT-X-MEDIA" || name == "EXT-X-I-FRAME-STREAM-INF":
                    if let uri = attributes[attribute: "URI"]?.unquoted { referenced.append((line.number, uri)) }
                case .uri(let uri) where previousWasStreamInf:
                    referenced.append((line.number, uri))
                    previousWasStreamInf = false
                default: break
                }
            }
            var seen = Set<String>()
            for (line, uri) in referenced where !uri.contains("://") {
                let child = Validator.sibling(of: path, uri)
                guard seen.insert(child).inserted else { continue }
                guard FileManager.default.fileExists(atPath: child) else {
                    report.findings.append(Finding(rule: "hls.uri-resolves", severity: .error, message: "\(uri) does not exist",
                                                   file: path, line: line, reference: "\(HLSRules.rfc) §4.4.6.2"))
                    continue
                }
                let childBytes = try read(child)
                let childDocument: HLSDocument
                do { childDocument = try HLSDocument.parse(childBytes, limits: .init(maxBytes: maxBytes)) } catch {
                    report.findings.append(Finding(rule: "hls.syntax", severity: .error, message: error.message, file: child,
                                                   reference: "\(HLSRules.rfc) §4"))
                    continue
                }
                report.documents.append(child)
                report.findings += HLSRules.common(childDocument, file: child) + mediaChecks(childDocument, path: child)
            }
        } else {
            report.findings += mediaChecks(document, path: path)
        }
        return report
    }

    private func mediaChecks(_ document: HLSDocument, path: String) -> [Finding] {
        var findings = HLSRules.media(document, file: path)
        var seen = Set<String>()
        for line in document.lines {
            var uri: String?
            switch line.content {
            case .uri(let value): uri = value
            case .tag("EXT-X-MAP", _, let attributes?): uri = attributes[attribute: "URI"]?.unquoted
            default: break
            }
            guard let uri, !uri.contains("://"), seen.insert(uri).inserted else { continue }
            if !FileManager.default.fileExists(atPath: Validator.sibling(of: path, uri)) {
                findings.append(Finding(rule: "hls.uri-resolves", severity: .error, message: "\(uri) does not exist", file: path,
                                        line: line.number, reference: "\(HLSRules.rfc) §4.4.4.1"))
            }
        }
        return findings
    }

    /// `uri` resolved against the folder of `path`, kept relative when `path` is.
    static func sibling(of path: String, _ uri: String) -> String {
        if uri.hasPrefix("/") { return uri }
        guard let slash = path.lastIndex(of: "/") else { return uri }
        return String(path[...slash]) + uri
    }

    // MARK: DASH

    private func validateDASH(path: String, bytes: [UInt8]) throws -> ValidationReport {
        var report = ValidationReport(input: path, format: "dash", documents: [path], findings: [])
        let tree: XMLElement
        do {
            tree = try XMLReader.read(bytes, name: path, maxBytes: maxBytes)
        } catch {
            report.findings.append(Finding(rule: "dash.well-formed", severity: .error,
                                           message: "\(error.message)\(error.details.first.map { ": \($0)" } ?? "")",
                                           file: path, reference: "W3C XML 1.0"))
            return report
        }
        if let schemaPath {
            let schema: XMLSchema
            do { schema = try XMLSchema(path: schemaPath) } catch {
                throw ValidationError(file: schemaPath, message: "cannot load schema", reason: error.details.first ?? "")
            }
            for violation in try schema.validate(bytes, name: path) {
                report.findings.append(Finding(rule: "dash.schema", severity: .error, message: violation, file: path,
                                               reference: "\(DASHRules.iso) Annex B (DASH-MPD.xsd)"))
            }
        }
        report.findings += DASHRules.check(tree, file: path)
        return report
    }
}
