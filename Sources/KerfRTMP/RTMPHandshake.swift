import NIOCore

/// The server side of the RTMP handshake (RTMP 1.0 §5.2), as a value type: C0+C1 in, S0+S1+S2
/// out, C2 in. The simple handshake (S1's version field zero), which FFmpeg, OBS and librtmp
/// publishers accept.
struct RTMPHandshake {
    enum State: Equatable {
        case awaitingC0C1
        case awaitingC2
        case done
    }

    enum Action {
        /// Send these bytes (S0, S1, S2).
        case send(ByteBuffer)
        /// The handshake is complete; any bytes left in the buffer are chunks.
        case complete
    }

    static let packetSize = 1536
    private(set) var state = State.awaitingC0C1
    /// Uptime in milliseconds written into S1.
    let serverTime: UInt32
    private let randomBytes: [UInt8]

    init(serverTime: UInt32, random: [UInt8]) {
        self.serverTime = serverTime
        randomBytes = random
    }

    /// Consumes what it can of `buffer`.
    mutating func feed(_ buffer: inout ByteBuffer) throws(RTMPError) -> [Action] {
        var actions: [Action] = []
        if state == .awaitingC0C1 {
            guard buffer.readableBytes >= 1 + Self.packetSize else { return actions }
            let version = buffer.readInteger(as: UInt8.self)!
            guard version == 3 else { throw RTMPError(.handshake, "RTMP version \(version), not 3") }
            let c1 = buffer.readSlice(length: Self.packetSize)!
            var reply = ByteBuffer()
            reply.reserveCapacity(1 + 2 * Self.packetSize)
            reply.writeInteger(UInt8(3))
            // S1: time, zero, random.
            reply.writeInteger(serverTime)
            reply.writeInteger(UInt32(0))
            reply.writeBytes(randomBytes.prefix(Self.packetSize - 8))
            if randomBytes.count < Self.packetSize - 8 {
                reply.writeRepeatingByte(0, count: Self.packetSize - 8 - randomBytes.count)
            }
            // S2: C1's time, our time, C1's random echo.
            reply.writeImmutableBuffer(c1.getSlice(at: c1.readerIndex, length: 4)!)
            reply.writeInteger(serverTime)
            reply.writeImmutableBuffer(c1.getSlice(at: c1.readerIndex + 8, length: Self.packetSize - 8)!)
            actions.append(.send(reply))
            state = .awaitingC2
        }
        if state == .awaitingC2 {
            guard buffer.readableBytes >= Self.packetSize else { return actions }
            buffer.moveReaderIndex(forwardBy: Self.packetSize)
            state = .done
            actions.append(.complete)
        }
        return actions
    }
}
