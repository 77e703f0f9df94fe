import KerfCore

/// Why `kerf serve` cannot start: a bad configuration, a root that is not a folder, an address
/// that cannot be bound.
public struct OriginError: ReportableError, Sendable {
    public var file: String
    public var message: String
    public var reason: String

    public init(file: String, message: String, reason: String = "") {
        self.file = file
        self.message = message
        self.reason = reason
    }

    public var subject: String? { file }
    public var summary: String { message }
    public var cause: String { reason }
    public var isInputError: Bool { true }
}
