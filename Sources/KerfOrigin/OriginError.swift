import KerfCore

/// The error type of KerfOrigin: why `kerf serve` cannot start (a bad configuration, a root that
/// is not a folder, an address that is not host:port) or why a response was cut short. Codes
/// are stable; the message says what, the reason why.
public struct OriginError: CodedError, Sendable {
    public enum Code: String, Sendable {
        /// The configuration file cannot be read, is not YAML, or has a key or value that cannot
        /// be used (the message names the key).
        case configuration
        /// `listen` or `rtmp-listen` is not host:port.
        case address
        /// The TLS certificate chain or private key cannot be read, or do not belong together.
        case certificate
        /// The root folder does not exist or is not a folder.
        case root
        /// A path signed URLs do not cover (only /vod/ and /live/ paths are signed).
        case signing
        /// A served file changed while its response was being sent.
        case file
    }

    public var code: Code
    public var message: String
    public var reason: String
    /// The configuration file, the key, or the folder concerned.
    public var file: String?

    public init(_ code: Code, _ message: String, reason: String = "", file: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.file = file
    }

    public var isInputError: Bool { code != .file }
}
