import HTTPTypes
import NIOCore

/// A `200 OK` response head as HTTP/1.1 bytes, for the answers written past NIO's HTTP encoder
/// (`RawRequestResponder`): the status line and a line per field, in order.
enum RawHead {
    /// - Parameter ended: with the blank line that ends the head (else the caller adds lines).
    static func ok(_ fields: HTTPFields, ended: Bool) -> ByteBuffer {
        var raw = ByteBuffer(string: "HTTP/1.1 200 OK\r\n")
        for field in fields {
            raw.writeString(field.name.rawName)
            raw.writeString(": ")
            raw.writeString(field.value)
            raw.writeString("\r\n")
        }
        if ended { raw.writeString("\r\n") }
        return raw
    }
}
