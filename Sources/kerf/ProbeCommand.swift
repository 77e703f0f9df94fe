import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfMedia

/// `kerf probe`: what is in a file, and whether it can be packaged without transcoding.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show the streams of a file or URL and whether it can be packaged by stream copy.",
        discussion: """
            Reads every packet once to measure keyframe spacing. Exits 0 when the input was read \
            (whatever the verdict), 2 when it cannot be opened or read.
            """
    )

    @Argument(help: "A media file path or a URL (http, https, udp, srt, rtmp…).")
    var input: String

    @Flag(help: "Print stable, machine-readable JSON instead of text.")
    var json = false

    @Option(help: "The segment duration the stream-copy verdict is judged against, in seconds.")
    var segmentDuration: Double = 6

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard segmentDuration > 0, segmentDuration.isFinite else {
            throw ValidationError("--segment-duration must be a positive number of seconds")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let report = try MediaProbe.probe(url: input, targetSegmentDuration: segmentDuration)
        if json {
            try printJSON(ProbeDocument(report))
        } else {
            print(ProbeText.render(report), terminator: "")
        }
    }
}
