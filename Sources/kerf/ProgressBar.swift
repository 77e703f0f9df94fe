import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr: percentage, speed (× realtime) and ETA. Only shown when
/// stderr is a terminal.
final class ProgressBar: @unchecked Sendable {
    private let start = Date()
    private let lock = NSLock()
    private let mediaDuration: Double?
    private var lastDraw = Date.distantPast

    /// A bar when stderr is a TTY, else `nil` (quiet in pipes and CI logs).
    static func forStandardError(mediaDuration: Double? = nil) -> ProgressBar? {
        isatty(STDERR_FILENO) == 1 ? ProgressBar(mediaDuration: mediaDuration) : nil
    }

    init(mediaDuration: Double?) { self.mediaDuration = mediaDuration }

    func update(_ fraction: Double) {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1 || fraction >= 1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let width = 30, filled = Int(fraction * Double(width))
        var line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "]"
        line += String(format: " %3d%%", Int(fraction * 100))
        if let duration = mediaDuration, elapsed > 0 {
            line += String(format: "  %.1fx", fraction * duration / elapsed)
        }
        if fraction > 0.01 {
            line += String(format: "  ETA %.0fs", elapsed * (1 - fraction) / fraction)
        }
        writeStandardError(line + "   ")
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        writeStandardError("\r" + String(repeating: " ", count: 60) + "\r")
    }
}
