import NIOCore

/// One RTMP message (RTMP 1.0 §5.4, §6–7): what the chunk stream carries, reassembled.
struct RTMPMessage: Sendable {
    /// Message type IDs.
    enum Kind {
        static let setChunkSize: UInt8 = 1
        static let abort: UInt8 = 2
        static let acknowledgement: UInt8 = 3
        static let userControl: UInt8 = 4
        static let windowAcknowledgementSize: UInt8 = 5
        static let setPeerBandwidth: UInt8 = 6
        static let audio: UInt8 = 8
        static let video: UInt8 = 9
        static let dataAMF3: UInt8 = 15
        static let commandAMF3: UInt8 = 17
        static let dataAMF0: UInt8 = 18
        static let commandAMF0: UInt8 = 20
    }

    var type: UInt8
    var streamID: UInt32
    /// Milliseconds (32 bits, wrapping).
    var timestamp: UInt32
    var payload: ByteBuffer

    /// A command message (AMF0) on `streamID`.
    static func command(_ values: [AMF0], streamID: UInt32 = 0) -> RTMPMessage {
        var payload = ByteBuffer()
        for value in values { value.encode(into: &payload) }
        return RTMPMessage(type: Kind.commandAMF0, streamID: streamID, timestamp: 0, payload: payload)
    }

    /// A protocol control message with a 32-bit value (set chunk size, acknowledgement, window).
    static func control(_ type: UInt8, _ value: UInt32, extra: UInt8? = nil) -> RTMPMessage {
        var payload = ByteBuffer()
        payload.writeInteger(value)
        if let extra { payload.writeInteger(extra) }
        return RTMPMessage(type: type, streamID: 0, timestamp: 0, payload: payload)
    }

    /// User control event Stream Begin for `stream`.
    static func streamBegin(_ stream: UInt32) -> RTMPMessage {
        var payload = ByteBuffer()
        payload.writeInteger(UInt16(0))
        payload.writeInteger(stream)
        return RTMPMessage(type: Kind.userControl, streamID: 0, timestamp: 0, payload: payload)
    }

    /// The message cut into chunks of `chunkSize` on chunk stream `chunkStream` (2…63): a type 0
    /// header, then type 3 headers.
    func chunks(chunkSize: Int, chunkStream: UInt8) -> ByteBuffer {
        var out = ByteBuffer()
        let length = payload.readableBytes
        out.reserveCapacity(length + 12 + length / max(chunkSize, 1) + 4)
        out.writeInteger(chunkStream & 0x3F)
        let extended = timestamp >= 0xFF_FFFF
        Self.write24(extended ? 0xFF_FFFF : timestamp, to: &out)
        Self.write24(UInt32(length), to: &out)
        out.writeInteger(type)
        out.writeInteger(streamID, endianness: .little)
        if extended { out.writeInteger(timestamp) }
        var offset = 0
        repeat {
            if offset > 0 {
                out.writeInteger(0xC0 | (chunkStream & 0x3F))
                if extended { out.writeInteger(timestamp) }
            }
            let count = min(chunkSize, length - offset)
            out.writeImmutableBuffer(payload.getSlice(at: payload.readerIndex + offset, length: count)!)
            offset += count
        } while offset < length
        return out
    }

    static func write24(_ value: UInt32, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8((value >> 16) & 0xFF))
        buffer.writeInteger(UInt8((value >> 8) & 0xFF))
        buffer.writeInteger(UInt8(value & 0xFF))
    }
}
