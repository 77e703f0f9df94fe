import NIOCore

/// Reassembles RTMP messages from the chunk stream (RTMP 1.0 §5.3): basic and message headers
/// of the four formats, extended timestamps, interleaved chunk streams, Set Chunk Size and Abort
/// applied as they come. A value type fed with bytes; it keeps an incomplete chunk's bytes in the
/// caller's buffer (nothing is consumed until a whole chunk is there).
///
/// Limits against hostile peers: chunk size, message size, and the number of chunk streams with
/// a message in progress; any breach, or a chunk that continues nothing, is an error that ends
/// the connection.
struct RTMPChunkParser {
    private struct StreamState {
        var timestamp: UInt32 = 0
        var delta: UInt32 = 0
        var length = 0
        var type: UInt8 = 0
        var streamID: UInt32 = 0
        var extended = false
        var partial: ByteBuffer?
        var started = false
    }

    let maximumChunkSize: Int
    /// Largest message accepted (raised by the owner once a publish is accepted).
    var maximumMessageSize: Int
    static let maximumStreamsInProgress = 32
    /// Distinct chunk stream IDs a connection may use.
    static let maximumStreams = 64
    /// Messages in progress, kept as a count (not recounted per message).
    private var inProgress = 0
    /// The peer's chunk size (128 until it sends Set Chunk Size).
    private(set) var chunkSize = 128
    private var streams: [UInt32: StreamState] = [:]

    init(maximumChunkSize: Int = 65_536, maximumMessageSize: Int = 16 << 20) {
        self.maximumChunkSize = maximumChunkSize
        self.maximumMessageSize = maximumMessageSize
    }

    /// Consumes every whole chunk in `buffer`; returns the messages they completed.
    mutating func parse(_ buffer: inout ByteBuffer) throws(RTMPError) -> [RTMPMessage] {
        var messages: [RTMPMessage] = []
        while true {
            let start = buffer.readerIndex
            guard let message = try parseChunk(&buffer) else {
                if buffer.readerIndex == start { break }
                continue
            }
            messages.append(message)
        }
        return messages
    }

    /// Reads one chunk: nil with the reader index unchanged when the chunk is incomplete, nil
    /// with it moved when the chunk was part of a message still in progress.
    private mutating func parseChunk(_ buffer: inout ByteBuffer) throws(RTMPError) -> RTMPMessage? {
        let start = buffer.readerIndex
        func incomplete() -> RTMPMessage? {
            buffer.moveReaderIndex(to: start)
            return nil
        }
        guard let first = buffer.readInteger(as: UInt8.self) else { return incomplete() }
        let format = first >> 6
        var chunkStream = UInt32(first & 0x3F)
        if chunkStream == 0 {
            guard let next = buffer.readInteger(as: UInt8.self) else { return incomplete() }
            chunkStream = 64 + UInt32(next)
        } else if chunkStream == 1 {
            guard let low = buffer.readInteger(as: UInt8.self), let high = buffer.readInteger(as: UInt8.self) else { return incomplete() }
            chunkStream = 64 + UInt32(low) + UInt32(high) * 256
        }
        if streams[chunkStream] == nil, streams.count >= Self.maximumStreams {
            throw RTMPError(.chunkStream, "more than \(Self.maximumStreams) chunk streams")
        }
        var state = streams[chunkStream] ?? StreamState()
        guard format == 0 || state.started else {
            throw RTMPError(.chunkStream, "chunk stream \(chunkStream) starts with a format \(format) header")
        }
        let continuing = state.partial != nil
        var field: UInt32?
        switch format {
        case 0:
            guard buffer.readableBytes >= 11 else { return incomplete() }
            field = read24(&buffer)
            state.length = Int(read24(&buffer))
            state.type = buffer.readInteger(as: UInt8.self)!
            state.streamID = buffer.readInteger(endianness: .little, as: UInt32.self)!
        case 1:
            guard buffer.readableBytes >= 7 else { return incomplete() }
            field = read24(&buffer)
            state.length = Int(read24(&buffer))
            state.type = buffer.readInteger(as: UInt8.self)!
        case 2:
            guard buffer.readableBytes >= 3 else { return incomplete() }
            field = read24(&buffer)
        default:
            break
        }
        if let value = field { state.extended = value == 0xFF_FFFF }
        var extendedValue: UInt32?
        if state.extended {
            guard let value = buffer.readInteger(as: UInt32.self) else { return incomplete() }
            extendedValue = value
        }
        if continuing && format != 3 {
            throw RTMPError(.chunkStream, "chunk stream \(chunkStream): a new header in the middle of a message")
        }
        guard state.length <= maximumMessageSize else {
            throw RTMPError(.chunkStream, "message of \(state.length) bytes (limit \(maximumMessageSize))")
        }
        let received = state.partial?.readableBytes ?? 0
        let count = min(chunkSize, state.length - received)
        guard buffer.readableBytes >= count else { return incomplete() }
        if !continuing {
            // A new message: its timestamp from this header (RTMP 1.0 §5.3.1.2).
            let value = extendedValue ?? field ?? state.delta
            switch format {
            case 0:
                state.timestamp = value
                state.delta = value
            case 1, 2:
                state.delta = value
                state.timestamp &+= value
            default:
                state.timestamp &+= state.delta
            }
            guard inProgress < Self.maximumStreamsInProgress else {
                throw RTMPError(.chunkStream, "too many chunk streams with a message in progress")
            }
            inProgress += 1
            // Grown as chunks come, not reserved from the announced length.
            state.partial = ByteBuffer()
        }
        state.started = true
        var payload = buffer.readSlice(length: count)!
        state.partial!.writeBuffer(&payload)
        var message: RTMPMessage?
        if state.partial!.readableBytes >= state.length {
            message = RTMPMessage(type: state.type, streamID: state.streamID, timestamp: state.timestamp, payload: state.partial!)
            state.partial = nil
            inProgress -= 1
        }
        streams[chunkStream] = state
        if let message {
            try apply(message)
            return message
        }
        return nil
    }

    /// Set Chunk Size and Abort change how the next chunks are read.
    private mutating func apply(_ message: RTMPMessage) throws(RTMPError) {
        switch message.type {
        case RTMPMessage.Kind.setChunkSize:
            guard let value = message.payload.getInteger(at: message.payload.readerIndex, as: UInt32.self) else {
                throw RTMPError(.chunkStream, "Set Chunk Size without a size")
            }
            let size = Int(value & 0x7FFF_FFFF)
            guard size >= 1, size <= maximumChunkSize else {
                throw RTMPError(.chunkStream, "chunk size \(size) (limit \(maximumChunkSize))")
            }
            chunkSize = size
        case RTMPMessage.Kind.abort:
            if let stream = message.payload.getInteger(at: message.payload.readerIndex, as: UInt32.self), streams[stream]?.partial != nil {
                streams[stream]?.partial = nil
                inProgress -= 1
            }
        default:
            break
        }
    }

    private func read24(_ buffer: inout ByteBuffer) -> UInt32 {
        let a = UInt32(buffer.readInteger(as: UInt8.self)!), b = UInt32(buffer.readInteger(as: UInt8.self)!)
        let c = UInt32(buffer.readInteger(as: UInt8.self)!)
        return a << 16 | b << 8 | c
    }
}
