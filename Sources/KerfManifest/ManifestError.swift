import KerfCore

/// The error type of KerfManifest: input that cannot be read as a playlist or MPD at all.
public struct ManifestError: ReportableError, Sendable {
    public enum Code: String, Sendable { case tooLarge, malformed, unsupported }
    public var code: Code
    public var message: String
    public var file: String?

    public init(_ code: Code, _ message: String, file: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
    }

    public var subject: String? { file }
    public var summary: String { message }
    public var cause: String { "" }
    public var isInputError: Bool { true }
}
