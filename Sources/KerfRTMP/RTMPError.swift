import KerfCore

/// The error type of KerfRTMP: a publisher's bytes that break the protocol or a limit, or a
/// stream the ingest does not take. Every one ends the connection or the publish; codes are
/// stable, the message says what was wrong.
///
/// A refused publish (bad stream key, unknown channel) is not an error but an answer to the
/// publisher: `RTMPServer.Refusal`.
package struct RTMPError: ReportableError, Sendable, Equatable {
    package enum Code: String, Sendable {
        /// The handshake is not RTMP 1.0's (version, length).
        case handshake
        /// The chunk stream breaks RTMP 1.0 §5.3 or a limit (chunk size, message size, chunk
        /// streams in progress).
        case chunkStream
        /// An AMF0 command or data message cannot be decoded, or exceeds the decoding limits.
        case amf
        /// The published bytes are not an FLV stream, or a tag exceeds the limit.
        case flv
        /// The stream uses what the ingest does not take (legacy video in an Enhanced RTMP
        /// stream, multitrack, a codec other than HEVC and AV1, a configuration change).
        case unsupportedStream
    }

    package var code: Code
    package var message: String
    /// The stream concerned ("rtmp://…/live/news"), when known.
    package var stream: String?

    package init(_ code: Code, _ message: String, stream: String? = nil) {
        self.code = code
        self.message = message
        self.stream = stream
    }

    package var subject: String? { stream }
    package var summary: String { message }
    package var cause: String { "" }
    package var isInputError: Bool { true }
}
