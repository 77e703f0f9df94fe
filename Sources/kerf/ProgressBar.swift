import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr: percentage, speed (× realtime) and ETA. Only shown when
/// stderr is a terminal.
final class ProgressBar: Sendable {
    private let start = ContinuousClock.now
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    /// A bar when stderr is a TTY, else `nil` (quiet in pipes and CI logs).
    static func forStandardError() -> ProgressBar? {
        isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
    }

    /// - Parameters:
    ///   - fraction: of the work done, 0…1.
    ///   - mediaSeconds: media time processed so far, for the speed (× realtime).
    func update(_ fraction: Double, mediaSeconds: Double) {
        let now = ContinuousClock.now
        let draw = lastDraw.withLock { last -> Bool in
            if let last, now - last < .milliseconds(100), fraction < 1 { return false }
            last = now
            return true
        }
        guard draw else { return }
        let elapsed = Self.seconds(now - start)
        let width = 30, filled = Int(fraction * Double(width))
        var line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "]"
        line += " \(Int(fraction * 100))%"
        if elapsed > 0 && mediaSeconds > 0 {
            line += "  \(Self.oneDecimal(mediaSeconds / elapsed))x"
        }
        if fraction > 0.01 {
            line += "  ETA \(Int((elapsed * (1 - fraction) / fraction).rounded()))s"
        }
        writeStandardError(line + "   ")
    }

    func finish() {
        writeStandardError("\r" + String(repeating: " ", count: 60) + "\r")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
