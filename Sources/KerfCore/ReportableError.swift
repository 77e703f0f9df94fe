/// An error the command line can print as one line: `kerf: <subject>: <what>: <why>`.
///
/// Every module's error type conforms, so the CLI prints them all the same way and picks the
/// exit status from `isInputError`.
public protocol ReportableError: Error, CustomStringConvertible {
    /// The file, URL or stream the error concerns, when there is one.
    var subject: String? { get }
    /// What Kerf was doing ("cannot open", "cannot decode stream 0").
    var summary: String { get }
    /// Why it failed, in the underlying library's words where it gave any.
    var cause: String { get }
    /// True when the input or the invocation was at fault (exit 2) rather than Kerf itself.
    var isInputError: Bool { get }
}

extension ReportableError {
    /// The error as one line without the program name: `<subject>: <what>: <why>`.
    public var oneLine: String {
        var parts: [String] = []
        if let subject, !subject.isEmpty { parts.append(subject) }
        parts.append(summary)
        if !cause.isEmpty { parts.append(cause) }
        return parts.joined(separator: ": ")
            .split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { oneLine }
}

/// The shape of a module's error type: a stable code, what Kerf was doing (`message`), why
/// (`reason`) and the file concerned, reported as `ReportableError` without each type saying so.
public protocol CodedError: ReportableError {
    var message: String { get }
    var reason: String { get }
    var file: String? { get }
}

extension CodedError {
    public var subject: String? { file }
    public var summary: String { message }
    public var cause: String { reason }
}
