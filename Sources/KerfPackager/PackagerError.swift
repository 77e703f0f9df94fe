import KerfCore
import KerfSystem

/// The error type of KerfPackager.
public struct PackagerError: CodedError, Sendable {
    public enum Code: String, Sendable {
        /// The input cannot be packaged as asked (codec, GOP, misaligned renditions).
        case unsupportedInput
        /// Stream copy cannot package the input but re-encoding it can (codec, interlacing,
        /// GOPs longer than segments, keyframes misaligned across renditions).
        case needsTranscoding
        /// Options contradict each other or name something that does not exist.
        case invalidOptions
        /// The output directory holds a package and `--force` was not given.
        case outputExists
        case io
    }
    public var code: Code
    public var message: String
    public var reason: String
    public var file: String?

    public init(_ code: Code, _ message: String, reason: String = "", file: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.file = file
    }

    public var isInputError: Bool { true }
}

extension PackagerError {
    /// A failed system call as an `.io` error: errno's text as the reason, the path as the file.
    public init(_ error: SystemError, _ message: String) {
        self.init(.io, message, reason: error.reason, file: error.path)
    }
}
