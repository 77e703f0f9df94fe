import KerfCore

/// The error type of KerfLive: a channel that cannot start, an input that cannot be read, an
/// archive that cannot be written. Codes are stable; the message says what, the reason why.
package struct LiveError: CodedError, Sendable {
    package enum Code: String, Sendable {
        /// The input cannot be opened or read, or has nothing a channel can publish.
        case input
        /// The channel's settings cannot be used (no video for a ladder, a shared archive).
        case configuration
        /// The archive folder or its journal cannot be created, written or read.
        case archive
        /// A splice request cannot be taken (a bad request, no input connected).
        case splice
    }

    package var code: Code
    package var message: String
    package var reason: String
    /// The input, file or folder concerned.
    package var file: String?

    package init(_ code: Code, _ message: String, reason: String = "", file: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.file = file
    }

    package var isInputError: Bool { code != .archive }
}
