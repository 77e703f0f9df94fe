import KerfCore

/// The error type of KerfCrypto.
public struct CryptoError: ReportableError, Sendable {
    public enum Code: String, Sendable { case invalidKey, invalidIV, library }
    public var code: Code
    public var message: String
    /// The OpenSSL function that failed and its error string, when OpenSSL was involved.
    public var function: String?
    public var libraryMessage: String?

    public init(_ code: Code, _ message: String, function: String? = nil, libraryMessage: String? = nil) {
        self.code = code
        self.message = message
        self.function = function
        self.libraryMessage = libraryMessage
    }

    public var subject: String? { nil }
    public var summary: String { message }
    public var cause: String { [function, libraryMessage].compactMap { $0 }.joined(separator: ": ") }
    public var isInputError: Bool { code != .library }
}
