import Logging
import KerfMedia

/// Picks the video encoder family for a codec, by actually opening each candidate's device and
/// encoder, and records one line per candidate saying why it was skipped or chosen.
///
/// The opener is injected so the rules are tested without a GPU; `EncoderProbe.open` is the
/// real one. An explicit choice that cannot open is an error, never a silent fallback.
public struct EncoderSelection<Device> {
    public var family: EncoderFamily
    /// The opened GPU device for the family, `nil` for software.
    public var device: Device?
    public var log: [String]

    /// - Parameters:
    ///   - choice: `--encoder`.
    ///   - codec: "h264" or "hevc".
    ///   - open: opens the family's device and a test encoder; returns the device (nil for
    ///     software) or throws why it cannot.
    /// - Throws: `TranscodeError(.encoderUnavailable)` when no candidate opens; for an explicit
    ///   choice, naming the missing device or encoder.
    public init(choice: EncoderChoice, codec: String, logger: Logger? = nil,
                open: (EncoderFamily, String) throws(TranscodeError) -> Device?) throws(TranscodeError) {
        var log: [String] = []
        var chosen: (EncoderFamily, Device?)?
        var lastError: TranscodeError?
        for family in choice.candidates {
            let name = family.encoderName(codec: codec)
            do {
                let device = try open(family, name)
                log.append("using \(name)" + (family.deviceKind.map { " on a \($0.rawValue) device" } ?? " (software)"))
                chosen = (family, device)
                break
            } catch {
                log.append("skipping \(name): \(error.message)\(error.reason.isEmpty ? "" : " (\(error.reason))")")
                lastError = error
            }
        }
        if let logger { for line in log { logger.info("\(line)") } }
        guard let chosen else {
            let error = lastError ?? TranscodeError(.encoderUnavailable, "no encoder")
            if choice == .auto {
                throw TranscodeError(.encoderUnavailable, "no \(codec) encoder can be opened",
                                     reason: log.joined(separator: "; "))
            }
            throw TranscodeError(.encoderUnavailable, "--encoder \(choice.rawValue): \(error.message)", reason: error.reason)
        }
        self.family = chosen.0
        self.device = chosen.1
        self.log = log
    }
}
