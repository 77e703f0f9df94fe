import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfCrypto
import KerfValidate

#if canImport(Glibc)
import Glibc
#endif

/// `kerf validate`: checks HLS playlists and DASH MPDs.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an HLS playlist (and the playlists it names) or a DASH MPD against the specs.",
        discussion: """
            Each finding has a stable rule ID, a severity (error: a spec MUST or player-breaking; \
            warning: a SHOULD or authoring-specification advice), a location and the clause it comes \
            from. Exits 0 with no errors, 1 when errors were found, 2 when the input cannot be read.
            """
    )

    @Argument(help: "An .m3u8 playlist or .mpd file: a local path or an http(s) URL.")
    var input: String?

    @Flag(help: "Print the catalogue of rules (Markdown: ID, severity, word, clause) and exit.")
    var rules = false

    @Option(name: .customLong("ignore"),
            help: ArgumentHelp("Drop the findings of this rule, or of a family ending in * ('hls.live-*'). Repeatable.", valueName: "rule"))
    var ignored: [String] = []

    @Option(help: ArgumentHelp("Report findings of this severity and above: error, warning or info.", valueName: "level"))
    var severity: String = "info"

    @Option(help: "Validate MPDs against this XSD (DASH-MPD.xsd).")
    var schema: String?

    @Flag(help: "Read the segments too: keyframes, durations, continuity, bit rates, codecs.")
    var deep = false

    @Option(help: "With --deep, check at most this many segments per playlist, sampled evenly.")
    var maxSegments: Int?

    @Option(name: .customLong("key"),
            help: ArgumentHelp("With --deep, decrypt with this key: <kid>:<key> for Common Encryption (32 hex digits each), or a bare key for AES-128 and SAMPLE-AES MPEG-TS segments whose key URI cannot be read. Repeatable.",
                               valueName: "kid:key"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("Watch a live presentation for this many seconds: reloads, sequence numbers, availability.",
                               valueName: "seconds"))
    var live: Double?

    @Option(help: "Seconds to wait for an HTTP server to connect or send more data.")
    var timeout: Int64 = 10

    @Option(help: "Output format: text, json, html (one self-contained page) or junit (JUnit XML for CI).")
    var format: String = "text"

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if rules { return }
        guard input != nil else { throw ValidationError("missing an input: a playlist, an MPD or an http(s) URL") }
        guard ["text", "json", "html", "junit"].contains(format) else { throw ValidationError("--format must be text, json, html or junit") }
        guard Finding.Severity(rawValue: severity) != nil else { throw ValidationError("--severity must be error, warning or info") }
        _ = try ignoredRules()
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout must be from 1 to 3600 seconds") }
        if let live, !(live > 0 && live <= 86_400) { throw ValidationError("--live must be between 0 and 86400 seconds") }
        if !keys.isEmpty && !deep { throw ValidationError("--key decrypts segments, which only --deep reads") }
        _ = try decryptionKeys()
    }

    /// The `--key` values; errors name what is wrong, never a key.
    func decryptionKeys() throws -> DecryptionKeys {
        var result = DecryptionKeys()
        for text in keys {
            do { try result.add(parsing: text) } catch { throw ValidationError("--key: \(error.message)") }
        }
        return result
    }

    /// The rule IDs `--ignore` names; an unknown ID is a usage error, not a silent no-op.
    func ignoredRules() throws -> Set<String> {
        var result = Set<String>()
        for pattern in ignored {
            let ids = RuleCatalogue.matching(pattern)
            guard !ids.isEmpty else { throw ValidationError("--ignore: no rule \(pattern) (kerf validate --rules lists them)") }
            result.formUnion(ids)
        }
        return result
    }

    func run() async throws {
        global.bootstrapLogging()
        if rules {
            print(RuleCatalogue.markdown(), terminator: "")
            return
        }
        guard let input else { throw ValidationError("missing an input") }
        var validator = Validator(schemaPath: schema, deep: deep, maxSegments: maxSegments)
        validator.timeout = timeout
        validator.live = live
        validator.keys = try decryptionKeys()
        validator.keepTexts = format == "html"
        let report = try await validator.validate(input)
            .filtered(ignoring: try ignoredRules(), minimum: Finding.Severity(rawValue: severity) ?? .info)
        switch format {
        case "json": try printJSON(JSONReport(report))
        case "html": print(HTMLReport(report).render(), terminator: "")
        case "junit": print(JUnitReport(report, deep: deep, live: live != nil).render(), terminator: "")
        default: print(render(report, colour: isatty(STDOUT_FILENO) == 1), terminator: "")
        }
        if report.errors > 0 { throw ExitCode(1) }
    }

    /// The JSON document: the report plus its counts.
    struct JSONReport: Encodable {
        var input: String
        var format: String
        var documents: [String]
        var errors: Int
        var warnings: Int
        var findings: [Finding]
        init(_ r: ValidationReport) {
            input = r.input; format = r.format; documents = r.documents
            errors = r.errors; warnings = r.warnings; findings = r.findings
        }
    }

    func render(_ report: ValidationReport, colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text }
        var out = ""
        for document in report.documents {
            let findings = report.findings.filter { $0.file == document }
                .sorted { ($0.line ?? 0, $0.severity) < ($1.line ?? 0, $1.severity) }
            out += "\(document): " + (findings.isEmpty ? paint("ok", "32") : "\(findings.count) finding\(findings.count == 1 ? "" : "s")") + "\n"
            for f in findings {
                let level = f.severity == .error ? paint("error", "31") : f.severity == .warning ? paint("warning", "33") : "info"
                var location = ""
                if let line = f.line { location = "\(line)" + (f.column.map { ":\($0)" } ?? "") + " " }
                if let path = f.path { location = "\(path) " }
                out += "  \(location)\(level) [\(f.rule)] \(f.message) (\(f.reference))\n"
            }
        }
        out += "\(report.errors) error\(report.errors == 1 ? "" : "s"), \(report.warnings) warning\(report.warnings == 1 ? "" : "s")\n"
        return out
    }
}
