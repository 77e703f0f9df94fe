import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfCrypto
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

    @Option(help: "Encrypt HLS segments: aes-128 (whole-segment AES-128-CBC, RFC 8216bis).")
    var encrypt: String?

    @Option(help: "The AES-128 key: 32 hex digits, or a file holding the 16-byte key.")
    var key: String?

    @Option(help: "Key URI written in EXT-X-KEY (default: the key is published as key.bin in the package).")
    var keyURI: String?

    @Option(help: "A fixed IV (32 hex digits) for every segment (default: each segment's media sequence number).")
    var iv: String?

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
        if let encrypt, encrypt != "aes-128" {
            throw ValidationError("--encrypt supports aes-128")
        }
        if encrypt != nil && key == nil { throw ValidationError("--encrypt aes-128 needs --key") }
        if encrypt == nil && (key != nil || keyURI != nil || iv != nil) {
            throw ValidationError("--key, --key-uri and --iv need --encrypt aes-128")
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

    func run() throws {
        global.bootstrapLogging()
        var options = PackageOptions(inputs: inputs, output: output)
        options.segmentDuration = MediaTime(value: Int64((segmentDuration * 1000).rounded()), timescale: 1000)
        options.formats = try parsedFormats()
        options.timeBasedNames = segmentTemplate == "time"
        options.force = force
        options.singleFile = singleFile
        if let streams { options.selection.selectors = try StreamSelection.parseSelectors(streams) }
        for override in overrides { try options.selection.parseOverride(override) }
        if encrypt != nil, let key {
            options.encryption = SegmentEncryption(key: try loadKey(key), iv: try iv.map { try AES128Key(hex: $0) },
                                                   keyURI: keyURI)
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
        let summary = try job.run()
        bar?.finish()
        if json {
            try printJSON(summary)
        } else {
            for manifest in summary.manifests { print("\(output)/\(manifest)") }
        }
    }
}
