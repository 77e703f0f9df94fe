import KerfMedia
import NIOCore
@testable import KerfRTMP

extension FuzzTarget {
    /// A publisher's connection as `RTMPConnectionHandler` reads it. An input that starts with
    /// RTMP's version byte (3) is the whole byte stream, handshake first; any other first byte
    /// stands for a completed handshake, and the rest is the chunk stream. The bytes arrive in
    /// reads of a size taken from the first byte, so chunks are split across reads.
    static func rtmp(_ bytes: [UInt8]) -> [String] {
        guard let first = bytes.first else { return [] }
        var handshake = RTMPHandshake(serverTime: 0, random: [])
        var stream = bytes[...]
        if first != 3 {
            stream = bytes.dropFirst()
            var complete = ByteBuffer(bytes: [3] + [UInt8](repeating: 0, count: 2 * RTMPHandshake.packetSize))
            _ = try? handshake.feed(&complete)
        }
        let readSize = first == 3 ? 4096 : 1 + Int(first) * 37
        var parser = RTMPChunkParser()
        var session = RTMPSession()
        var pending = ByteBuffer()
        var problems: [String] = []
        var media: [(type: UInt8, timestamp: UInt32, payload: ByteBuffer)] = []
        read: while !stream.isEmpty {
            pending.writeBytes(stream.prefix(readSize))
            stream = stream.dropFirst(readSize)
            do throws(RTMPError) {
                if handshake.state != .done {
                    _ = try handshake.feed(&pending)
                    guard handshake.state == .done else {
                        if pending.readableBytes > 2 * RTMPHandshake.packetSize + 1 { break read }
                        continue
                    }
                }
                for message in try parser.parse(&pending) {
                    var actions = session.handle(message)
                    while !actions.isEmpty {
                        let action = actions.removeFirst()
                        switch action {
                        case .authorize:
                            parser.maximumMessageSize = 1 << 20
                            actions += session.decide(.accept)
                        case .media(let type, let timestamp, let payload):
                            media.append((type, timestamp, payload))
                        case .send(let reply, let chunkStream):
                            // What the server answers must read back as the message it sent.
                            var chunks = reply.chunks(chunkSize: RTMPSession.outgoingChunkSize, chunkStream: chunkStream)
                            var reader = RTMPChunkParser()
                            var size = RTMPMessage.control(RTMPMessage.Kind.setChunkSize, UInt32(RTMPSession.outgoingChunkSize))
                                .chunks(chunkSize: 128, chunkStream: 2)
                            _ = try? reader.parse(&size)
                            let echoed = try? reader.parse(&chunks)
                            if echoed?.count != 1 || echoed?.first?.payload != reply.payload {
                                problems.append("a reply of type \(reply.type) does not read back")
                            }
                        case .close:
                            break read
                        case .outgoingChunkSize, .unpublish, .cuePoint, .textData:
                            break
                        }
                    }
                }
                pending.discardReadBytes()
                if pending.readableBytes > parser.maximumChunkSize + 32 { break read }
            } catch {
                break read
            }
        }
        // The media messages through the channel's FLV pipe, read back as the ingest reads them.
        guard !media.isEmpty else { return problems }
        let pipe = FLVPipe(capacity: 1 << 20)
        for (type, timestamp, payload) in media.prefix(64) where !pipe.append(type: type, timestamp: timestamp, payload: payload) { break }
        pipe.finish()
        flvTags(from: pipe)
        return problems
    }

    /// AMF0 values: decoding is bounded, and what decodes encodes to bytes that decode to the
    /// same encoding (one round trip is a fixed point).
    static func amf0(_ bytes: [UInt8]) -> [String] {
        guard let values = try? AMF0.decodeAll(ByteBuffer(bytes: bytes)) else { return [] }
        var encoded = ByteBuffer()
        for value in values { value.encode(into: &encoded) }
        guard let again = try? AMF0.decodeAll(encoded) else { return ["AMF0 values do not decode after encoding"] }
        var reencoded = ByteBuffer()
        for value in again { value.encode(into: &reencoded) }
        return reencoded == encoded ? [] : ["AMF0 values change in an encode-decode round trip"]
    }

    /// An FLV byte stream (header, tags).
    static func flv(_ bytes: [UInt8]) -> [String] {
        flvTags(from: MemoryByteSource(bytes: bytes))
        return []
    }

    /// Reads tags as the ingest does: up to the first video tag; an Enhanced RTMP one makes an
    /// `EnhancedRTMPSource` (configuration records to codec parameters) read to the end.
    static func flvTags(from source: any ByteSource) {
        let reader = FLVTagReader(source: source)
        var read: [FLVTagReader.Tag] = []
        do {
            while read.count < 256, let tag = try reader.next() {
                read.append(tag)
                if tag.type == 18 { _ = EnhancedRTMPSource.metadataFrameRate(tag.payload) }
                if tag.type == 9 { break }
            }
            guard let video = read.last, EnhancedRTMPSource.isEnhancedVideo(video) else { return }
            let source = try EnhancedRTMPSource(reader: reader, read: read, name: "fuzz")
            let packet = Packet()
            var packets = 0
            while packets < 4096, try source.read(into: packet) == .packet { packets += 1 }
        } catch {
            return
        }
    }
}
