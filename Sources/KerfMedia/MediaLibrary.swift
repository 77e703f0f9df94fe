internal import CFFmpeg
import Logging
import Synchronization

/// Process-wide libav set-up: network initialisation and where FFmpeg's own log lines go.
///
/// By default FFmpeg's messages are routed to a swift-log `Logger` at a matching level, so the
/// CLI decides what is shown; nothing is printed to stderr behind Kerf's back.
public enum MediaLibrary {
    private static let initialized = Mutex(false)
    nonisolated(unsafe) private static var logger = Logger(label: "kerf.libav")

    /// Idempotent; called by every object that talks to libav.
    static func initialize() {
        initialized.withLock { done in
            guard !done else { return }
            done = true
            avformat_network_init()
            av_log_set_level(AV_LOG_WARNING)
            kerf_log_install()
        }
    }

    /// Sets the most verbose FFmpeg level forwarded to the logger: `.trace`/`.debug` → debug,
    /// `.info` → info, `.warning` → warnings and errors, anything above → errors only, `nil` →
    /// nothing (errors still reach the caller as `MediaError`s).
    public static func setLogLevel(_ level: Logger.Level?) {
        initialize()
        guard let level else {
            av_log_set_level(AV_LOG_QUIET)
            return
        }
        switch level {
        case .trace: av_log_set_level(AV_LOG_TRACE)
        case .debug: av_log_set_level(AV_LOG_DEBUG)
        case .info, .notice: av_log_set_level(AV_LOG_INFO)
        case .warning: av_log_set_level(AV_LOG_WARNING)
        case .error, .critical: av_log_set_level(AV_LOG_ERROR)
        }
    }

    /// libavformat/libavcodec version string, for `kerf --version` and reports.
    public static var versions: String {
        let format = avformat_version(), codec = avcodec_version()
        func text(_ v: UInt32) -> String { "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)" }
        return "libavformat \(text(format)), libavcodec \(text(codec))"
    }

    fileprivate static func forward(level: Int32, line: String) {
        let swiftLevel: Logger.Level
        switch level {
        case ...AV_LOG_ERROR: swiftLevel = .error
        case ...AV_LOG_WARNING: swiftLevel = .warning
        case ...AV_LOG_INFO: swiftLevel = .info
        default: swiftLevel = .debug
        }
        logger.log(level: swiftLevel, "\(line)")
    }
}

/// Receives each formatted FFmpeg log line from the C trampoline in the CFFmpeg shim.
@_cdecl("kerf_log_line")
func kerfLogLine(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    var text = String(cString: line)
    while let last = text.last, last.isNewline { text.removeLast() }
    guard !text.isEmpty else { return }
    MediaLibrary.forward(level: level, line: text)
}
