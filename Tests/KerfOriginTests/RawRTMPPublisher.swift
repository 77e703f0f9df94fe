import Foundation
import NIOCore
import Testing
@testable import KerfRTMP

/// A hand-made RTMP publisher on a raw socket: handshake, connect, createStream, publish, then
/// whatever messages a test sends (media tags, data messages), and the end of the publish.
final class RawRTMPPublisher {
    let connection: RawConnection

    /// Connects and publishes `path` (`news?key=…`) to the RTMP port.
    init(port: Int, path: String) throws {
        connection = try RawConnection(port: port)
        connection.send(bytes: [3] + [UInt8](repeating: 0, count: 8) + (8..<1536).map { _ in UInt8.random(in: 0...255) })
        let answer = connection.receiveBytes(atLeast: 1 + 2 * 1536)
        #expect(!answer.closed && answer.bytes.count == 1 + 2 * 1536)
        connection.send(bytes: Array(answer.bytes[1..<1537]))
        send(.control(RTMPMessage.Kind.setChunkSize, 4096), on: 2, chunkSize: 128)
        send(.command([.string("connect"), .number(1), .object([.init(key: "app", value: .string("live")),
                                                                .init(key: "type", value: .string("nonprivate"))])]), on: 3)
        send(.command([.string("createStream"), .number(2), .null]), on: 3)
        send(.command([.string("publish"), .number(3), .null, .string(path), .string("live")], streamID: 1), on: 4)
    }

    func send(_ message: RTMPMessage, on chunkStream: UInt8, chunkSize: Int = 4096) {
        var bytes = message.chunks(chunkSize: chunkSize, chunkStream: chunkStream)
        connection.send(bytes: bytes.readBytes(length: bytes.readableBytes) ?? [])
    }

    /// An audio (8) or video (9) tag's payload at `timestamp` milliseconds.
    func media(_ type: UInt8, _ timestamp: Int64, _ payload: [UInt8]) {
        send(RTMPMessage(type: type, streamID: 1, timestamp: UInt32(timestamp), payload: ByteBuffer(bytes: payload)), on: type == 9 ? 6 : 7)
    }

    /// An AMF0 data message (`onMetaData`, `onCuePoint`…) at `timestamp` milliseconds.
    func data(_ values: [AMF0], _ timestamp: Int64) {
        var payload = ByteBuffer()
        for value in values { value.encode(into: &payload) }
        send(RTMPMessage(type: RTMPMessage.Kind.dataAMF0, streamID: 1, timestamp: UInt32(timestamp), payload: payload), on: 5)
    }

    /// Ends the publish and waits until the server has read everything sent and closed.
    func finish() {
        send(.command([.string("deleteStream"), .number(4), .null, .number(1)]), on: 3)
        connection.finishSending()
        _ = connection.receiveBytes(atLeast: Int.max)
        connection.close()
    }
}
