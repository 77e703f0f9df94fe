import Foundation
import NIOCore

/// One RTMP publisher's command conversation (RTMP 1.0 §7.2), as a value type returning actions:
/// `connect` (app `live` only), `releaseStream`/`FCPublish`, `createStream`, `publish` (the
/// stream name is the channel, its `?key=` query the stream key; the owner decides), media and
/// `onMetaData`, splice cues (`onCuePoint`) and timed data (`onTextData`, `onMetaData` updates) while publishing, `FCUnpublish`/`deleteStream`/`closeStream` to end.
struct RTMPSession {
    enum State: Equatable {
        case awaitingConnect
        case connected
        case awaitingDecision
        case publishing
        case ended
    }

    enum Action {
        case send(RTMPMessage, chunkStream: UInt8)
        /// Our chunk size for what is sent next (after the Set Chunk Size just queued).
        case outgoingChunkSize(Int)
        /// A publish asks for `channel` with `key`: answer with `decide(_:)`.
        case authorize(channel: String, key: String?)
        /// An FLV tag to hand to the channel (8 audio, 9 video, 18 script data).
        case media(type: UInt8, timestamp: UInt32, payload: ByteBuffer)
        /// A splice cue (`onCuePoint`) to hand to the channel.
        case cuePoint(RTMPCuePoint)
        /// Timed data (`onTextData`, an `onMetaData` update) to hand to the channel.
        case textData(RTMPTextData)
        /// The publisher stopped (the channel's input ends; the connection may stay).
        case unpublish
        /// End the connection: a protocol violation or a refused publish.
        case close(reason: String)
    }

    enum Decision {
        case accept
        /// Refused with an `onStatus` error code (NetStream.Publish.BadName, …).
        case refuse(code: String, description: String)
    }

    static let app = "live"
    static let outgoingChunkSize = 4096
    private(set) var state = State.awaitingConnect
    /// The key from the connect URL's query (`rtmp://host/live?key=…`), when the stream name has none.
    private var connectKey: String?
    private var publishStream: UInt32 = 1
    private var publishTransaction = 0.0
    /// What the peer's Window Acknowledgement Size asks: an Acknowledgement every so many bytes.
    private(set) var acknowledgementWindow: UInt32?
    /// The stream's first `onMetaData` went into the FLV stream; later ones are updates.
    private var sawMetaData = false

    mutating func handle(_ message: RTMPMessage) -> [Action] {
        switch message.type {
        case RTMPMessage.Kind.windowAcknowledgementSize:
            acknowledgementWindow = message.payload.getInteger(at: message.payload.readerIndex, as: UInt32.self)
            return []
        case RTMPMessage.Kind.commandAMF0, RTMPMessage.Kind.commandAMF3:
            var payload = message.payload
            if message.type == RTMPMessage.Kind.commandAMF3 { payload.moveReaderIndex(forwardBy: min(1, payload.readableBytes)) }
            let values: [AMF0]
            do { values = try AMF0.decodeAll(payload) } catch { return [.close(reason: "bad command: \(error.message)")] }
            return command(values, streamID: message.streamID)
        case RTMPMessage.Kind.dataAMF0, RTMPMessage.Kind.dataAMF3:
            guard state == .publishing else { return [] }
            var payload = message.payload
            if message.type == RTMPMessage.Kind.dataAMF3 { payload.moveReaderIndex(forwardBy: min(1, payload.readableBytes)) }
            // "@setDataFrame", "onMetaData", {…} is stored as "onMetaData", {…}.
            var probe = payload
            if (try? AMF0.decode(&probe, depth: 0))?.string == "@setDataFrame" { payload = probe }
            // An ad break cue goes to the channel as a splice, not into the FLV stream.
            var name = payload
            let handler = (try? AMF0.decode(&name, depth: 0))?.string
            if handler == "onCuePoint" {
                return ((try? AMF0.decodeAll(payload)).flatMap { RTMPCuePoint.parse($0, timestamp: message.timestamp) }).map { [.cuePoint($0)] } ?? []
            }
            // Timed text goes to the channel as timed metadata, not into the FLV stream (whose
            // demuxer would make it a subtitle stream the channel did not plan).
            if handler == "onTextData" {
                return ((try? AMF0.decodeAll(payload)).flatMap { RTMPTextData.parse($0, timestamp: message.timestamp) }).map { [.textData($0)] } ?? []
            }
            var actions: [Action] = [.media(type: 18, timestamp: message.timestamp, payload: payload)]
            if handler == "onMetaData" {
                if sawMetaData, let update = (try? AMF0.decodeAll(payload)).flatMap({ RTMPTextData.parse($0, timestamp: message.timestamp) }) {
                    actions.append(.textData(update))
                }
                sawMetaData = true
            }
            return actions
        case RTMPMessage.Kind.audio, RTMPMessage.Kind.video:
            guard state == .publishing, message.payload.readableBytes > 0 else { return [] }
            return [.media(type: message.type, timestamp: message.timestamp, payload: message.payload)]
        default:
            return []
        }
    }

    /// The owner's answer to `.authorize`.
    mutating func decide(_ decision: Decision) -> [Action] {
        guard state == .awaitingDecision else { return [] }
        switch decision {
        case .accept:
            state = .publishing
            return [.send(.streamBegin(publishStream), chunkStream: 2),
                    .send(status("status", "NetStream.Publish.Start", "publishing"), chunkStream: 5)]
        case .refuse(let code, let description):
            state = .ended
            return [.send(status("error", code, description), chunkStream: 5), .close(reason: description)]
        }
    }

    private mutating func command(_ values: [AMF0], streamID: UInt32) -> [Action] {
        guard let name = values.first?.string else { return [.close(reason: "command without a name")] }
        let transaction = values.count > 1 ? values[1].number ?? 0 : 0
        switch name {
        case "connect":
            guard state == .awaitingConnect else { return [.close(reason: "second connect")] }
            let object = values.count > 2 ? values[2] : .null
            let (app, query) = Self.splitQuery(object["app"]?.string ?? "")
            guard app.trimmingCharacters(in: ["/"]) == Self.app else {
                return [.send(.command([.string("_error"), .number(transaction), .null,
                                        Self.info("error", "NetConnection.Connect.Rejected", "unknown application \(app)")]), chunkStream: 3),
                        .close(reason: "unknown application \(app)")]
            }
            connectKey = Self.key(in: query) ?? Self.key(in: Self.splitQuery(object["tcUrl"]?.string ?? "").query)
            state = .connected
            return [.send(.control(RTMPMessage.Kind.windowAcknowledgementSize, 2_500_000), chunkStream: 2),
                    .send(.control(RTMPMessage.Kind.setPeerBandwidth, 2_500_000, extra: 2), chunkStream: 2),
                    .send(.control(RTMPMessage.Kind.setChunkSize, UInt32(Self.outgoingChunkSize)), chunkStream: 2),
                    .outgoingChunkSize(Self.outgoingChunkSize),
                    .send(.command([.string("_result"), .number(transaction),
                                    .object([.init(key: "fmsVer", value: .string("FMS/3,0,1,123")),
                                             .init(key: "capabilities", value: .number(31))]),
                                    Self.info("status", "NetConnection.Connect.Success", "connected", encoding: true)]), chunkStream: 3)]
        case "releaseStream", "FCPublish":
            guard state != .awaitingConnect else { return [.close(reason: "\(name) before connect")] }
            return transaction > 0 ? [.send(.command([.string("_result"), .number(transaction), .null, .undefined]), chunkStream: 3)] : []
        case "createStream":
            guard state == .connected else { return [.close(reason: "createStream before connect")] }
            return [.send(.command([.string("_result"), .number(transaction), .null, .number(Double(publishStream))]), chunkStream: 3)]
        case "publish":
            guard state == .connected else { return [.close(reason: "publish in state \(state)")] }
            let (channel, query) = Self.splitQuery(values.count > 3 ? values[3].string ?? "" : "")
            publishStream = streamID == 0 ? 1 : streamID
            publishTransaction = transaction
            state = .awaitingDecision
            return [.authorize(channel: channel, key: Self.key(in: query) ?? connectKey)]
        case "FCUnpublish", "deleteStream", "closeStream":
            guard state == .publishing else { return [] }
            state = .connected
            sawMetaData = false
            return [.unpublish]
        default:
            return []
        }
    }

    private func status(_ level: String, _ code: String, _ description: String) -> RTMPMessage {
        .command([.string("onStatus"), .number(0), .null, Self.info(level, code, description)], streamID: publishStream)
    }

    private static func info(_ level: String, _ code: String, _ description: String, encoding: Bool = false) -> AMF0 {
        var properties: [AMF0.Property] = [.init(key: "level", value: .string(level)), .init(key: "code", value: .string(code)),
                                           .init(key: "description", value: .string(description))]
        if encoding { properties.append(.init(key: "objectEncoding", value: .number(0))) }
        return .object(properties)
    }

    /// "name?query" → ("name", "query").
    static func splitQuery(_ text: String) -> (name: String, query: String) {
        guard let mark = text.firstIndex(of: "?") else { return (text, "") }
        return (String(text[..<mark]), String(text[text.index(after: mark)...]))
    }

    /// The `key` parameter of a query string.
    static func key(in query: String) -> String? {
        for pair in query.split(separator: "&") where pair.hasPrefix("key=") {
            return String(pair.dropFirst(4)).removingPercentEncoding
        }
        return nil
    }
}
