import KerfCore

/// The error type of KerfTranscode.
public struct TranscodeError: CodedError, Sendable {
    public enum Code: String, Sendable {
        /// A ladder specification or file that cannot be used.
        case invalidLadder
        /// The requested encoder or GPU device cannot be opened on this machine.
        case encoderUnavailable
        /// A stream that cannot be decoded at all.
        case undecodable
        /// Options that contradict each other.
        case invalidOptions
        /// An encoder or converter failed in the middle of the job.
        case failed
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

    public var isInputError: Bool { code != .failed }
}
