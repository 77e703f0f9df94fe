import KerfCore

/// The error type of KerfValidate: what stops validation before any rule ran (the input cannot
/// be read, is not HLS or DASH, the schema cannot be loaded). Problems found while validating
/// are findings, not errors. Codes are stable; the message says what, the reason why.
public struct ValidationError: CodedError, Sendable {
    public enum Code: String, Sendable {
        /// The input, or the playlist it names, cannot be read or parsed.
        case unreadable
        /// The input is neither an HLS playlist nor a DASH MPD (an HTML page, say).
        case notAPresentation
        /// The XML schema given for MPDs cannot be loaded.
        case schema
    }

    public var code: Code
    public var message: String
    public var reason: String
    /// The input, playlist or schema concerned.
    public var file: String?

    public init(_ code: Code, _ message: String, reason: String = "", file: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.file = file
    }

    public var isInputError: Bool { true }
}
