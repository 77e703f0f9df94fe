import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfMedia
import KerfTranscode

/// `kerf probe`: what is in a file, and whether it can be packaged without transcoding.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show the streams of a file or URL and whether it can be packaged by stream copy.",
        discussion: """
            Reads every packet once to measure keyframe spacing. Exits 0 when the input was read \
            (whatever the verdict), 2 when it cannot be opened or read. With --encoders, lists \
            the video encoders and hardware decoders this machine can open instead.
            """
    )

    @Argument(help: "A media file path or a URL (http, https, udp, srt, rtmp…).")
    var input: String?

    @Flag(help: "List the H.264/HEVC encoders (NVENC, QSV, VAAPI, x264/x265) and hardware decoders this machine can open.")
    var encoders = false

    @Flag(help: "Print stable, machine-readable JSON instead of text.")
    var json = false

    @Option(help: "The segment duration the stream-copy verdict is judged against, in seconds.")
    var segmentDuration: Double = 6

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if encoders == (input != nil) {
            throw ValidationError(encoders ? "--encoders takes no input" : "missing input (or --encoders)")
        }
        guard segmentDuration > 0, segmentDuration.isFinite else {
            throw ValidationError("--segment-duration must be a positive number of seconds")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        if encoders {
            let capabilities = EncoderProbe.capabilities()
            if json {
                try printJSON(capabilities)
            } else {
                for capability in capabilities {
                    let kind = capability.kind.padding(toLength: 8, withPad: " ", startingAt: 0)
                    let name = capability.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                    print("\(kind)\(name)\(capability.available ? "yes" : "no: \(capability.reason ?? "")")")
                }
            }
            return
        }
        guard let input else { return }
        let report = try MediaProbe.probe(url: input, targetSegmentDuration: segmentDuration)
        if json {
            try printJSON(ProbeDocument(report))
        } else {
            print(ProbeText.render(report), terminator: "")
        }
    }
}
