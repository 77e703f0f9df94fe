import KerfCore

/// The error type of KerfXML.
public struct XMLError: ReportableError, Sendable {
    public enum Code: String, Sendable {
        case malformed, schemaUnavailable, invalid, tooLarge, library
    }
    public var code: Code
    public var message: String
    /// libxml2's messages (line: text), when it gave any.
    public var details: [String]
    public var file: String?

    public init(_ code: Code, _ message: String, details: [String] = [], file: String? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.file = file
    }

    public var subject: String? { file }
    public var summary: String { message }
    public var cause: String { details.first ?? "" }
    public var isInputError: Bool { code != .library }
}
