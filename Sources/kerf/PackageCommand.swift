import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfCrypto
import KerfManifest
import KerfMedia
import KerfPackager
import KerfTranscode

/// `kerf package`: pre-encoded files in, HLS and DASH out.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Package files into HLS and DASH: stream copy where possible, re-encoding where needed.",
        discussion: """
            Every video track becomes a variant/Representation, every audio track an alternate \
            rendition, every text track (mov_text, SRT, WebVTT) a WebVTT subtitle rendition. Several \
            inputs that are renditions of one title (a ladder) form one presentation. Segments are cut \
            at keyframes at the first keyframe at or after each multiple of --segment-duration. \
            The package is written beside the output directory and published atomically when complete. \
            With --transcode auto (the default), streams that cannot be copied (codec, interlacing, GOPs \
            longer than the segments, keyframes misaligned across renditions) are re-encoded: video to an \
            ABR ladder with keyframes at the segment boundaries, audio to AAC; the reason is printed per stream.
            """
    )

    @Argument(help: "Input files (renditions of one title).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output directory (created; must be empty unless --force).")
    var output: String

    @Option(help: "Streams to package, comma-separated: input:stream (0:1), input:type (1:a) or type (v, a, s). Default: all.")
    var streams: String?

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override how a stream is presented: input:stream:key=value with key language, name, bandwidth or default (repeatable).",
        valueName: "input:stream:key=value"))
    var overrides: [String] = []

    @Option(help: "Target segment duration in seconds.")
    var segmentDuration: Double = 6

    @Option(help: "Comma-separated output formats: hls, dash, hls-ts.")
    var formats: String = "hls,dash"

    @Option(help: "DASH SegmentTemplate addressing and segment file names: number or time.")
    var segmentTemplate: String = "number"

    @Flag(help: "One fMP4 file per track with a sidx (DASH on-demand profile, HLS byte ranges).")
    var singleFile = false

    @Option(help: "Encrypt: cbcs or cenc (Common Encryption of CMAF samples, HLS and DASH; cbcs also SAMPLE-AES of hls-ts variants), or aes-128 (whole HLS segments, AES-128-CBC).")
    var encrypt: String?

    @Option(help: ArgumentHelp(
        "cenc/cbcs: <kid>:<key> (32 hex digits each) for every track, or video=<kid>:<key> / audio=<kid>:<key> per track type (repeatable). aes-128: the key, 32 hex digits or a file holding 16 bytes.",
        valueName: "[type=]kid:key"))
    var key: [String] = []

    @Option(help: "Key URI written in EXT-X-KEY (default: the keys are published in the package: key.bin, key_<kid>.bin).")
    var keyURI: String?

    @Option(help: "aes-128: a fixed IV for every segment (32 hex digits). cenc: the first sample's IV (16 or 32 hex digits). cbcs: the constant IV (32 hex digits). Default: derived.")
    var iv: String?

    @Option(help: "cenc/cbcs: seconds at the start left clear (whole CMAF segments; still signalled as protected).")
    var clearLead: Double = 0

    @Flag(help: "cenc/cbcs: also write the DRM systems' pssh boxes into init segments (they are always in the MPD).")
    var psshInInit = false

    @Option(help: ArgumentHelp("cenc/cbcs: DRM systems to signal: common, clearkey, widevine, playready, fairplay (comma-separated; default common,clearkey). Clear Key publishes the keys.",
                               valueName: "systems"))
    var drm: String?

    @Option(help: ArgumentHelp("cenc/cbcs: pssh boxes to signal as given (hex or base64 of one or more concatenated boxes); each replaces the generated box of its system.",
                               valueName: "boxes"))
    var pssh: String?

    @Option(help: ArgumentHelp("cenc/cbcs: license server URL written in DASH (dashif:Laurl) and the PlayReady header, for every system or one (playready=URL) (repeatable).",
                               valueName: "[system=]url"))
    var licenseURL: [String] = []

    @Option(help: ArgumentHelp("cenc/cbcs: a DASH-IF CPIX 2.3 document giving the keys, their usage rules and each DRM system's signalling (instead of --key).",
                               valueName: "file"))
    var cpix: String?

    @Option(help: ArgumentHelp("Splices to cut at and list: a YAML or JSON list of cues with time (seconds from the presentation start), optional duration, id and scte35 (a splice_info_section in base64 or hex).",
                               valueName: "file"))
    var cues: String?

    @Option(help: ArgumentHelp("HLS splice tags: daterange (EXT-X-DATERANGE), cue (EXT-X-CUE-OUT/-CONT/-IN) or both, comma-separated.",
                               valueName: "tags"))
    var adMarkers: String = "daterange"

    @Flag(help: "DASH: start a new Period at each splice out and return (segment names unchanged).")
    var cuePeriods = false

    @Option(help: ArgumentHelp("DASH splice events: period (an EventStream in the MPD), inband (emsg boxes in the video segments, urn:scte:scte35:2013:bin) or both, comma-separated.",
                               valueName: "where"))
    var dashEvents: String = "period"

    @Option(help: ArgumentHelp("With splices: the date of presentation time 0 (ISO 8601, e.g. 2026-01-01T00:00:00Z), written as EXT-X-PROGRAM-DATE-TIME. Default: 1970-01-01T00:00:00Z.",
                               valueName: "date"))
    var programDateTime: String?

    @Option(help: "auto: re-encode only what cannot be copied; always: re-encode audio and video; never: stream copy only.")
    var transcode: String = "auto"

    @Option(help: "Ladder for re-encoded video: 1080p:5000k,720p:3000k,480p:1200k (resolution:bitrate[:maxrate]) or a YAML/JSON file. Default: derived from the source.")
    var ladder: String?

    @Option(help: "Video encoder: auto (NVENC, QSV, VAAPI, then software), nvenc, qsv, vaapi, x264 or x265.")
    var encoder: String = "auto"

    @Option(help: "Decode video on a GPU: auto, none, cuda, vaapi or qsv.")
    var hwaccel: String = "auto"

    @Flag(help: "Replace the output directory if it is not empty.")
    var force = false

    @Flag(help: "Print a machine-readable summary (renditions, segments, bit rates, files).")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard segmentDuration >= 0.1, segmentDuration.isFinite, segmentDuration <= 60 else {
            throw ValidationError("--segment-duration must be between 0.1 and 60 seconds")
        }
        _ = try parsedFormats()
        guard ["number", "time"].contains(segmentTemplate) else {
            throw ValidationError("--segment-template must be number or time")
        }
        if let encrypt, !["aes-128", "cenc", "cbcs"].contains(encrypt) {
            throw ValidationError("--encrypt must be cbcs, cenc or aes-128")
        }
        if let encrypt, key.isEmpty && (encrypt == "aes-128" || cpix == nil) {
            throw ValidationError("--encrypt \(encrypt) needs --key" + (encrypt == "aes-128" ? "" : " or --cpix"))
        }
        if cpix != nil && !key.isEmpty { throw ValidationError("--key and --cpix cannot be combined") }
        let commonOnly = clearLead != 0 || psshInInit || drm != nil || pssh != nil || !licenseURL.isEmpty || cpix != nil
        if encrypt == nil && (!key.isEmpty || keyURI != nil || iv != nil || commonOnly) {
            throw ValidationError("--key, --key-uri, --iv, --clear-lead, --pssh-in-init, --drm, --pssh, --license-url and --cpix need --encrypt")
        }
        if encrypt == "aes-128" {
            if key.count > 1 { throw ValidationError("--encrypt aes-128 takes one --key") }
            if commonOnly {
                throw ValidationError("--clear-lead, --pssh-in-init, --drm, --pssh, --license-url and --cpix are for --encrypt cenc or cbcs")
            }
        }
        guard clearLead >= 0, clearLead.isFinite, clearLead <= 86_400 else {
            throw ValidationError("--clear-lead must be between 0 and 86400 seconds")
        }
        let _: Presentation.AdMarkers = try parsedNames(adMarkers, option: "--ad-markers")
        let _: Presentation.DASHEvents = try parsedNames(dashEvents, option: "--dash-events")
        if let programDateTime, UTCTime.parseXSDateTime(programDateTime) == nil {
            throw ValidationError("--program-date-time must be an ISO 8601 date and time (2026-01-01T00:00:00Z)")
        }
        guard TranscodePlan.Mode(rawValue: transcode) != nil else {
            throw ValidationError("--transcode must be auto, always or never")
        }
        guard EncoderChoice(rawValue: encoder) != nil else {
            throw ValidationError("--encoder must be one of \(EncoderChoice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard hwaccel == "auto" || hwaccel == "none" || HardwareDevice.Kind(rawValue: hwaccel) != nil else {
            throw ValidationError("--hwaccel must be auto, none, cuda, vaapi or qsv")
        }
    }

    /// A comma-separated `NamedOptions` list given to `option`.
    func parsedNames<T: NamedOptions>(_ list: String, option: String) throws -> T {
        switch T.parse(list) {
        case .success(let options): return options
        case .failure(let unknown): throw ValidationError("unknown \(option) value '\(unknown.name)' (use \(T.nameList))")
        case nil: throw ValidationError("\(option) is empty")
        }
    }

    func parsedFormats() throws -> Set<PackageOptions.Format> {
        var result = Set<PackageOptions.Format>()
        for name in formats.split(separator: ",") {
            guard let format = PackageOptions.Format(rawValue: String(name.filter { !$0.isWhitespace })) else {
                throw ValidationError("unknown format '\(name)' (use hls, dash, hls-ts)")
            }
            result.insert(format)
        }
        guard !result.isEmpty else { throw ValidationError("--formats is empty") }
        return result
    }

    /// A key given as hex digits, or the path of a file holding 16 raw bytes (or hex text).
    func loadKey(_ value: String) throws -> AES128Key {
        if FileManager.default.fileExists(atPath: value) {
            guard let data = FileManager.default.contents(atPath: value) else {
                throw PackagerError(.invalidOptions, "cannot read key file", reason: "not a readable file", file: value)
            }
            if data.count == 16 { return try AES128Key(bytes: [UInt8](data)) }
            return try AES128Key(hex: String(decoding: data, as: UTF8.self))
        }
        return try AES128Key(hex: value)
    }

    /// The Common Encryption options: keys by track type, the IV, the clear lead. Errors name the
    /// option and what is wrong with it, never a key.
    func commonEncryption(_ scheme: ProtectionScheme) throws -> CommonEncryption {
        var common = CommonEncryption(scheme: scheme, keyURI: keyURI)
        for (index, value) in key.enumerated() { try common.addKey(value, option: "--key number \(index + 1)") }
        if let iv { try common.setIV(iv, option: "--iv") }
        common.clearLead = MediaTime(value: Int64((clearLead * 1000).rounded()), timescale: 1000)
        common.psshInInit = psshInInit
        try signalling(&common)
        try common.validate()
        return common
    }

    func run() throws {
        global.bootstrapLogging()
        var options = PackageOptions(inputs: inputs, output: output)
        options.segmentDuration = MediaTime(value: Int64((segmentDuration * 1000).rounded()), timescale: 1000)
        options.formats = try parsedFormats()
        options.timeBasedNames = segmentTemplate == "time"
        options.force = force
        options.singleFile = singleFile
        if let streams { options.selection.selectors = try StreamSelection.parseSelectors(streams) }
        if let cues { options.cues = try CuePoint.load(file: cues) }
        options.adMarkers = try parsedNames(adMarkers, option: "--ad-markers")
        options.dashEvents = try parsedNames(dashEvents, option: "--dash-events")
        options.cuePeriods = cuePeriods
        options.programDateTime = programDateTime.flatMap(UTCTime.parseXSDateTime) ?? 0
        for override in overrides { try options.selection.parseOverride(override) }
        if encrypt == "aes-128", let key = key.first {
            options.encryption = SegmentEncryption(key: try loadKey(key), iv: try iv.map { try AES128Key(hex: $0) },
                                                   keyURI: keyURI)
            if options.formats.contains(.hls) && !options.formats.contains(.dash) {
                writeStandardError("kerf: warning: AES-128 CMAF segments do not play in Chromium's native HLS player nor in GStreamer's hlsdemux/hlsdemux2; use --encrypt cbcs, or --formats hls-ts for AES-128\n")
            }
        }
        if let encrypt, let scheme = ProtectionScheme(rawValue: encrypt) {
            options.commonEncryption = try commonEncryption(scheme)
        }
        var settings = TranscodeOptions(mode: TranscodePlan.Mode(rawValue: transcode)!, encoder: EncoderChoice(rawValue: encoder)!)
        if let ladder { settings.ladder = try Ladder.parse(ladder) }
        switch hwaccel {
        case "auto": settings.hwaccel = .auto()
        case "none": settings.hwaccel = .none
        default: settings.hwaccel = .require(HardwareDevice.Kind(rawValue: hwaccel)!)
        }
        let job = TranscodingPackager(options: options, transcode: settings)
        let bar = ProgressBar.forStandardError()
        if let bar { job.progress = { fraction, seconds in bar.update(fraction, mediaSeconds: seconds) } }
        let quiet = json
        job.notice = { line in
            guard !quiet else { return }
            bar?.finish()
            writeStandardError("kerf: \(line)\n")
        }
        // Splice warnings (a cut moved to a later keyframe) are printed with --json too.
        job.warning = { line in
            bar?.finish()
            writeStandardError("kerf: warning: \(line)\n")
        }
        let summary = try job.run()
        bar?.finish()
        if json {
            try printJSON(summary)
        } else {
            for manifest in summary.manifests { print("\(output)/\(manifest)") }
        }
    }
}

extension PackageCommand {
    /// `--drm`, `--pssh`, `--license-url` and `--cpix` into the Common Encryption options.
    func signalling(_ common: inout CommonEncryption) throws {
        if let drm { common.drmSystems = try DRMSystem.list(drm) }
        if let pssh { try common.setPSSH(pssh, option: "--pssh") }
        for value in licenseURL { try common.addLicenseURL(value, option: "--license-url") }
        if let cpix { try common.loadCPIX(path: cpix, systemsNamed: drm != nil) }
    }
}
