import KerfCore
import KerfSystem

/// The one error type of the media layer.
///
/// Carries the failing libav function, its AVERROR code and FFmpeg's message, and the file and
/// stream concerned. "Try again" and end-of-file are never thrown: they are return values of
/// the send/receive/read calls.
public struct MediaError: ReportableError, Sendable {
    public enum Code: String, Sendable {
        /// The input could not be opened or recognised.
        case openFailed
        /// The bytes are not valid media (truncated, corrupt, unknown format).
        case invalidData
        /// No decoder or encoder for the codec, or the codec cannot be used as asked.
        case codecUnavailable
        /// A call that the object's current state does not allow.
        case wrongState
        /// A stream, option or parameter is missing or invalid.
        case invalidArgument
        /// A GPU device could not be opened.
        case hardwareUnavailable
        /// Reading or writing bytes failed.
        case io
        case outOfMemory
        /// Anything libav reports that fits none of the above.
        case library
    }

    public var code: Code
    /// What Kerf was doing, e.g. "cannot open".
    public var message: String
    /// The libav function that failed, e.g. "avformat_open_input".
    public var function: String?
    /// The negative AVERROR code it returned.
    public var averror: Int32?
    /// FFmpeg's description of `averror` (`av_strerror`).
    public var libraryMessage: String?
    public var file: String?
    public var stream: Int?

    public init(_ code: Code, _ message: String, function: String? = nil, averror: Int32? = nil,
                libraryMessage: String? = nil, file: String? = nil, stream: Int? = nil) {
        self.code = code
        self.message = message
        self.function = function
        self.averror = averror
        self.libraryMessage = libraryMessage
        self.file = file
        self.stream = stream
    }

    public var subject: String? { file }

    public var summary: String {
        if let stream { return "\(message) (stream \(stream))" }
        return message
    }

    public var cause: String {
        switch (function, libraryMessage) {
        case let (function?, libraryMessage?): return "\(function): \(libraryMessage)"
        case let (function?, nil): return function
        case let (nil, libraryMessage?): return libraryMessage
        case (nil, nil): return ""
        }
    }

    public var isInputError: Bool {
        switch code {
        case .openFailed, .invalidData, .codecUnavailable, .invalidArgument, .hardwareUnavailable, .io:
            return true
        case .wrongState, .outOfMemory, .library:
            return false
        }
    }

    /// Returns a copy that names the file and stream, keeping what is already set.
    public func at(file: String?, stream: Int? = nil) -> MediaError {
        var copy = self
        if copy.file == nil { copy.file = file }
        if copy.stream == nil { copy.stream = stream }
        return copy
    }
}

extension MediaError {
    /// A failed system call as an `.io` error: the call as `function`, errno's text as the
    /// library message, the path as the file.
    public init(_ error: SystemError, _ message: String) {
        self.init(.io, message, function: error.call, libraryMessage: error.reason, file: error.path)
    }
}
