import FoundationEssentials
import KerfCore
import KerfManifest
import KerfXML

/// Validates local HLS playlists and DASH MPDs.
public struct Validator: Sendable {
    /// An XSD to validate MPDs against (`--schema`).
    public var schemaPath: String?
    /// Largest playlist or MPD read, in bytes.
    public var maxBytes = 64 << 20
    /// Largest media segment, init segment or key read with `--deep`, in bytes.
    public var maxSegmentBytes = 512 << 20
    /// Read the segments themselves (`--deep`), all of them or `maxSegments` sampled evenly.
    public var deep = false
    public var maxSegments: Int?
    /// Seconds allowed to connect and between reads of an HTTP response (three times that for a
    /// whole response).
    /// (The loader keeps it within 1...3600.)
    public var timeout: Int64 = 10
    /// Keep reloading live playlists or a dynamic MPD for this many seconds (`--live`).
    public var live: Double?
    /// Keys to decrypt segments with under `--deep` (`--key`).
    public var keys = DecryptionKeys()
    /// Keep the text of every playlist and MPD read in the report (for HTML reports).
    public var keepTexts = false

    public init(schemaPath: String? = nil, deep: Bool = false, maxSegments: Int? = nil) {
        self.schemaPath = schemaPath
        self.deep = deep
        self.maxSegments = maxSegments
    }

    /// What `--deep` measured on one media playlist.
    struct Measured {
        var peak: Int
        var average: Int
        var codecs: [String]
        var width: Int?
        var height: Int?
        /// When the first segment's media starts, in seconds of its timestamps; nil when it
        /// was not read.
        var start: Double? = nil
    }

    /// Validates a local playlist or MPD, or one at an http(s) URL.
    /// - Throws: `ValidationError` when the input cannot be read or is neither HLS nor DASH.
    public func validate(_ input: String) async throws -> ValidationReport {
        let loader = ResourceLoader(timeout: timeout)
        do {
            let report = try await validate(input, loader: loader)
            await loader.shutdown()
            return report
        } catch {
            await loader.shutdown()
            throw error
        }
    }

    func validate(_ input: String, loader: ResourceLoader) async throws -> ValidationReport {
        let loaded: LoadedResource
        do { loaded = try await loader.load(input, limit: maxBytes) } catch {
            throw ValidationError(.unreadable, "cannot read", reason: error.description, file: input)
        }
        let bytes = loaded.bytes
        let path = input.split(separator: "?").first.map(String.init) ?? input
        let head = String(decoding: bytes.prefix(256), as: UTF8.self).lowercased()
        if head.contains("<!doctype html") || head.contains("<html") {
            throw ValidationError(.notAPresentation, "an HTML page, not an HLS playlist or a DASH MPD", file: input)
        }
        let looksXML = bytes.drop { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 || $0 == 0xef || $0 == 0xbb || $0 == 0xbf }.first == UInt8(ascii: "<")
        if looksXML || path.hasSuffix(".mpd") {
            var report = try await validateDASH(input, loaded: loaded, loader: loader)
            if let live {
                if report.findings.contains(where: { $0.rule == "dash.well-formed" }) { return report }
                report.findings += await LiveMonitor(validator: self, loader: loader, seconds: live).watchDASH(input)
            }
            return report
        }
        let start = bytes.starts(with: Array("#EXTM3U".utf8)) || bytes.starts(with: [0xef, 0xbb, 0xbf] + Array("#EXTM3U".utf8))
        guard start || path.hasSuffix(".m3u8") || path.hasSuffix(".m3u") else {
            throw ValidationError(.notAPresentation, "neither an HLS playlist nor a DASH MPD", file: input)
        }
        var (report, pairs) = try await validateHLS(input, loaded: loaded, loader: loader)
        if let live {
            let playlists = report.documents.count > 1 ? Array(report.documents.dropFirst()) : report.documents
            report.findings += await LiveMonitor(validator: self, loader: loader, seconds: live).watchHLS(playlists, pairs: pairs, multivariant: path)
        }
        return report
    }

    // MARK: HLS

    /// The report, and the pairs of renditions still to compare while `--live` watches them.
    private func validateHLS(_ path: String, loaded: LoadedResource,
                             loader: ResourceLoader) async throws -> (ValidationReport, [HLSRules.RenditionPair]) {
        var document: HLSDocument
        do { document = try HLSDocument.parse(loaded.bytes, limits: .init(maxBytes: maxBytes)) } catch {
            throw ValidationError(.unreadable, "cannot read playlist", reason: error.message, file: path)
        }
        let variables = HLSVariables.substitute(&document, file: path, imported: nil, query: Self.query(of: loaded.location))
        var report = ValidationReport(input: path, format: "hls", documents: [path],
                                      findings: variables.findings + HLSRules.common(document, file: path))
        if keepTexts { report.texts[path] = String(decoding: loaded.bytes, as: UTF8.self) }
        guard document.isMultivariant else {
            report.findings += await mediaChecks(document, path: path, base: loaded.location, loader: loader)
            if deep { report.findings += await deepChecks(document, path: path, base: loaded.location, independent: false, loader: loader).0 }
            return (report, [])
        }
        report.findings += HLSRules.multivariant(document, file: path)
        var referenced: [(line: Int, uri: String)] = []
        var iFramePlaylists = Set<String>()
        var previousWasStreamInf = false
        for line in document.lines {
            switch line.content {
            case .tag("EXT-X-STREAM-INF", _, _): previousWasStreamInf = true
            case .tag(let name, _, let attributes?) where name == "EXT-X-MEDIA" || name == "EXT-X-I-FRAME-STREAM-INF":
                if let uri = attributes[attribute: "URI"]?.unquoted {
                    referenced.append((line.number, uri))
                    if name == "EXT-X-I-FRAME-STREAM-INF" { iFramePlaylists.insert(uri) }
                }
            case .uri(let uri) where previousWasStreamInf:
                referenced.append((line.number, uri))
                previousWasStreamInf = false
            default: break
            }
        }
        var seen = Set<String>()
        var measured: [String: Measured] = [:]
        var mediaPlaylists: [(location: String, document: HLSDocument)] = []
        var loadedPlaylists: [String: MediaPlaylist] = [:]
        // A local playlist is checked with what is on disk: absolute URLs in it are not fetched.
        let remote = ResourceLoader.isRemote(loaded.location)
        for (line, uri) in referenced where remote || !uri.contains("://") {
            let child = ResourceLoader.resolve(uri, against: loaded.location)
            guard seen.insert(child).inserted else { continue }
            guard child != path, child != loaded.location, !report.documents.contains(child) else {
                report.findings.append(Finding(rule: "hls.playlist-loop", severity: .error,
                                               message: "\(uri) refers back to a playlist already read", file: path, line: line,
                                               reference: "\(HLSRules.rfc) §4.4.6.2"))
                continue
            }
            let childLoaded: LoadedResource
            do { childLoaded = try await loader.load(child, limit: maxBytes) } catch {
                report.findings.append(Finding(rule: "hls.uri-resolves", severity: .error, message: "\(uri) cannot be read: \(error)",
                                               file: path, line: line, reference: "\(HLSRules.rfc) §4.4.6.2"))
                continue
            }
            var childDocument: HLSDocument
            do { childDocument = try HLSDocument.parse(childLoaded.bytes, limits: .init(maxBytes: maxBytes)) } catch {
                report.findings.append(Finding(rule: "hls.syntax", severity: .error, message: error.message, file: child,
                                               reference: "\(HLSRules.rfc) §4"))
                continue
            }
            report.documents.append(child)
            if keepTexts { report.texts[child] = String(decoding: childLoaded.bytes, as: UTF8.self) }
            if childDocument.isMultivariant {
                report.findings.append(Finding(rule: "hls.nested-multivariant", severity: .error,
                                               message: "\(uri) is a multivariant playlist, not a media playlist", file: path,
                                               line: line, reference: "\(HLSRules.rfc) §4.4.6.2"))
                continue
            }
            report.findings += HLSVariables.substitute(&childDocument, file: child, imported: variables.values,
                                                       query: Self.query(of: childLoaded.location)).findings
            report.findings += HLSRules.common(childDocument, file: child)
            if iFramePlaylists.contains(uri), childDocument.tags("EXT-X-I-FRAMES-ONLY").isEmpty {
                report.findings.append(Finding(rule: "hls.iframe-playlist", severity: .error,
                                               message: "\(uri) is named by EXT-X-I-FRAME-STREAM-INF but has no EXT-X-I-FRAMES-ONLY",
                                               file: path, line: line, reference: "\(HLSRules.rfc) §4.4.6.3"))
            }
            mediaPlaylists.append((childLoaded.location, childDocument))
            loadedPlaylists[child] = childDocument.mediaPlaylist()
            report.findings += await mediaChecks(childDocument, path: child, base: childLoaded.location, loader: loader)
            if deep {
                let (findings, result) = await deepChecks(childDocument, path: child, base: childLoaded.location,
                                                          independent: document.isIndependent, loader: loader)
                report.findings += findings
                measured[uri] = result
            }
        }
        if deep { report.findings += variantChecks(document, path: path, measured: measured) }
        let alignment = await alignmentChecks(HLSRules.renditionPairs(document, location: loaded.location), loaded: loadedPlaylists,
                                              measured: measured, path: path, loader: loader)
        report.findings += alignment.findings
        report.findings += await steeringChecks(document, path: path, base: loaded.location, loader: loader)
        report.findings += HLSRules.sessionKeys(document, file: path, location: loaded.location, media: mediaPlaylists,
                                                allRead: Set(referenced.map { $0.uri }).count == mediaPlaylists.count)
        return (report, alignment.watched)
    }

    /// The query of a URL, nil without one or for a local path.
    static func query(of location: String) -> String? {
        guard ResourceLoader.isRemote(location), let mark = location.firstIndex(of: "?") else { return nil }
        return String(location[location.index(after: mark)...].prefix { $0 != "#" })
    }

    /// Media playlist rules, plus (for local playlists) that every segment and init file exists.
    /// Remote segments are only fetched with `--deep`.
    private func mediaChecks(_ document: HLSDocument, path: String, base: String, loader: ResourceLoader) async -> [Finding] {
        var findings = HLSRules.media(document, file: path)
        guard !ResourceLoader.isRemote(base) else { return findings }
        var seen = Set<String>()
        for line in document.lines {
            var uri: String?
            switch line.content {
            case .uri(let value): uri = value
            case .tag("EXT-X-MAP", _, let attributes?): uri = attributes[attribute: "URI"]?.unquoted
            default: break
            }
            guard let uri, !uri.contains("://"), seen.insert(uri).inserted else { continue }
            if await loader.status(of: ResourceLoader.resolve(uri, against: base)) != 200 {
                findings.append(Finding(rule: "hls.uri-resolves", severity: .error, message: "\(uri) does not exist", file: path,
                                        line: line.number, reference: "\(HLSRules.rfc) §4.4.4.1"))
            }
        }
        return findings
    }

    // MARK: deep

    /// A bit rate rounded up to a whole number, clamped where hostile durations make it absurd.
    static func wholeRate(_ rate: Double) -> Int {
        guard rate.isFinite else { return Int.max }
        return Int(min(rate.rounded(.up), 9e18))
    }

    /// Indices of `count` segments to read: all, or `maxSegments` spread evenly, first and last included.
    static func sample(_ count: Int, _ maxSegments: Int?) -> [Int] {
        guard let maxSegments, maxSegments > 0, maxSegments < count else { return Array(0..<count) }
        return Array(Set((0..<maxSegments).map { $0 * (count - 1) / max(1, maxSegments - 1) })).sorted()
    }

    /// Peak segment bit rate (RFC 8216bis §4.4.6.2): the highest rate over any contiguous run of
    /// segments lasting 0.5 to 1.5 target durations (every segment alone when none qualifies).
    static func peakBitRate(_ segments: [(seconds: Double, bits: Double)], target: Double) -> Int {
        var peak = 0.0
        for start in segments.indices {
            var seconds = 0.0, bits = 0.0
            for end in start..<segments.count {
                seconds += segments[end].seconds
                bits += segments[end].bits
                if seconds > 1.5 * target { break }
                if seconds >= 0.5 * target { peak = max(peak, bits / seconds) }
            }
        }
        if peak == 0 { peak = segments.map { $0.seconds > 0 ? $0.bits / $0.seconds : 0 }.max() ?? 0 }
        return wholeRate(peak)
    }

    /// BANDWIDTH, AVERAGE-BANDWIDTH, CODECS and RESOLUTION against what the segments hold.
    func variantChecks(_ document: HLSDocument, path: String, measured: [String: Measured]) -> [Finding] {
        var findings: [Finding] = []
        var groups: [String: [String]] = [:]
        // Only audio renditions add to a variant's bit rate.
        for media in document.tags("EXT-X-MEDIA") {
            guard let a = media.attributes, a[attribute: "TYPE"]?.unquoted == "AUDIO", let group = a[attribute: "GROUP-ID"]?.unquoted, let uri = a[attribute: "URI"]?.unquoted else { continue }
            groups[group, default: []].append(uri)
        }
        var pending: (line: Int, attributes: [HLSDocument.Attribute])?
        for line in document.lines {
            switch line.content {
            case .tag("EXT-X-STREAM-INF", _, let attributes): pending = (line.number, attributes ?? [])
            case .uri(let uri):
                guard let (number, attributes) = pending, let video = measured[uri] else { pending = nil; continue }
                pending = nil
                // The variant's own playlist listed in its group is not a second stream to add.
                // An audio-only variant plays one audio rendition at a time: the largest counts.
                let group = (attributes[attribute: "AUDIO"].flatMap { groups[$0.unquoted] } ?? []).filter { $0 != uri }
                let audio = group.compactMap { measured[$0] }
                let combine: (Int, Int) -> Int = video.width == nil ? { max($0, $1) } : { $0 + $1 }
                let peak = combine(video.peak, audio.map(\.peak).max() ?? 0)
                let average = combine(video.average, audio.map(\.average).max() ?? 0)
                func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ reference: String) {
                    findings.append(Finding(rule: rule, severity: severity, message: message, file: path, line: number, reference: reference))
                }
                if let bandwidth = attributes[attribute: "BANDWIDTH"].flatMap({ Int($0.value) }), Double(peak) > Double(bandwidth) * 1.1 {
                    add("hls.bandwidth-understated", .error,
                        "BANDWIDTH \(bandwidth) is below the measured peak segment bit rate \(peak) for \(uri)", "\(HLSRules.rfc) §4.4.6.2")
                }
                if let declared = attributes[attribute: "AVERAGE-BANDWIDTH"].flatMap({ Int($0.value) }), declared > 0,
                   abs(Double(average - declared)) > Double(declared) * 0.1 {
                    add("hls.average-bandwidth", .warning,
                        "AVERAGE-BANDWIDTH \(declared) differs by more than 10% from the measured \(average) for \(uri)", "\(HLSRules.apple) §1.4")
                }
                let declaredCodecs = (attributes[attribute: "CODECS"]?.unquoted ?? "").split(separator: ",").map { String($0.filter { $0 != " " }) }
                for codec in video.codecs where !declaredCodecs.isEmpty && !declaredCodecs.contains(where: { $0.lowercased() == codec.lowercased() }) {
                    add("hls.codecs-mismatch", .error, "\(uri) holds \(codec), which CODECS does not list", "\(HLSRules.rfc) §4.4.6.2")
                }
                if let w = video.width, let h = video.height, let declared = attributes[attribute: "RESOLUTION"]?.value,
                   declared != "\(w)x\(h)" {
                    add("hls.resolution-mismatch", .error, "RESOLUTION is \(declared) but \(uri) is \(w)x\(h)", "\(HLSRules.rfc) §4.4.6.2")
                }
            default: break
            }
        }
        return findings
    }



    // MARK: DASH

    private func validateDASH(_ path: String, loaded: LoadedResource, loader: ResourceLoader) async throws -> ValidationReport {
        let bytes = loaded.bytes
        var report = ValidationReport(input: path, format: "dash", documents: [path], findings: [])
        if keepTexts { report.texts[path] = String(decoding: bytes, as: UTF8.self) }
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
                throw ValidationError(.schema, "cannot load schema", reason: error.details.first ?? "", file: schemaPath)
            }
            for violation in try schema.validate(bytes, name: path) {
                // Elements of later specifications the 5th edition's schema does not know are
                // checked by their own rules.
                if let known = DASHRules.extensionElements.first(where: { violation.contains("}\($0.key)'") }) {
                    report.findings.append(Finding(rule: "dash.schema-extension", severity: .info,
                                                   message: "\(known.key) is defined by \(known.value), not by the schema: its own rules check it (\(violation))",
                                                   file: path, reference: "\(DASHRules.iso) Annex B (DASH-MPD.xsd)"))
                    continue
                }
                report.findings.append(Finding(rule: "dash.schema", severity: .error, message: violation, file: path,
                                               reference: "\(DASHRules.iso) Annex B (DASH-MPD.xsd)"))
            }
        }
        report.findings += DASHRules.check(tree, file: path)
        report.findings += DASHRules.protection(tree, file: path)
        guard tree.localName == "MPD" else { return report }
        let presentation = DASHPresentation(tree, location: loaded.location, now: UTCTime.now())
        report.findings += DASHRules.check(presentation, profiles: tree.attribute("profiles") ?? "", file: path)
        if deep {
            var inspection = DASHInspection(validator: self, loader: loader, file: path)
            inspection.cmaf = (tree.attribute("profiles") ?? "").split(separator: ",")
                .contains { $0.trimming(while: { $0 == " " }) == CMAFStructure.profile }
            report.findings += await inspection.check(presentation)
        }
        return report
    }
}
