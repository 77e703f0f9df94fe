import NIOCore
import KerfTestTags
import Testing
@testable import KerfRTMP

/// RTMP ingest on hand-made bytes: the chunk stream and AMF0, the command conversation as a
/// state machine, and Enhanced RTMP video tags.
@Suite(.tags(.unit)) struct RTMPProtocolTests {
    // MARK: chunk stream

    /// A 300-byte video message in 128-byte chunks (type 0 then type 3 headers), interleaved with
    /// a command on another chunk stream, then a type 1 and a type 2 header (timestamp deltas), an
    /// extended timestamp, and Set Chunk Size applied to the chunks after it.
    @Test func chunksReassembleIntoMessages() throws {
        var bytes = ByteBuffer()
        let video = ByteBuffer(bytes: (0..<300).map { UInt8($0 & 0xFF) })
        let first = RTMPMessage(type: RTMPMessage.Kind.video, streamID: 1, timestamp: 1000, payload: video).chunks(chunkSize: 128, chunkStream: 6)
        // Split the video's chunks and put a whole command between them.
        let split = first.getSlice(at: 0, length: 12 + 128)!, rest = first.getSlice(at: 12 + 128, length: first.readableBytes - 140)!
        bytes.writeImmutableBuffer(split)
        bytes.writeImmutableBuffer(RTMPMessage.command([.string("createStream"), .number(2), .null]).chunks(chunkSize: 128, chunkStream: 3))
        bytes.writeImmutableBuffer(rest)
        // Type 1 (delta 40, new length) and type 2 (delta 40) on chunk stream 6.
        bytes.writeBytes([0x46, 0, 0, 40, 0, 0, 2, RTMPMessage.Kind.video, 0xAA, 0xBB])
        bytes.writeBytes([0x86, 0, 0, 40, 0xCC, 0xDD])
        // Set Chunk Size 4096, then a 200-byte message in one chunk with an extended timestamp.
        bytes.writeImmutableBuffer(RTMPMessage.control(RTMPMessage.Kind.setChunkSize, 4096).chunks(chunkSize: 128, chunkStream: 2))
        bytes.writeImmutableBuffer(RTMPMessage(type: RTMPMessage.Kind.audio, streamID: 1, timestamp: 0x0100_0000,
                                               payload: ByteBuffer(repeating: 7, count: 200)).chunks(chunkSize: 4096, chunkStream: 4))

        var parser = RTMPChunkParser()
        // Fed a few bytes at a time: nothing is lost at chunk boundaries.
        var messages: [RTMPMessage] = []
        var pending = ByteBuffer()
        var whole = bytes
        while whole.readableBytes > 0 {
            var piece = whole.readSlice(length: min(7, whole.readableBytes))!
            pending.writeBuffer(&piece)
            messages += try parser.parse(&pending)
            pending.discardReadBytes()
        }
        #expect(pending.readableBytes == 0)
        #expect(messages.map(\.type) == [RTMPMessage.Kind.commandAMF0, RTMPMessage.Kind.video, RTMPMessage.Kind.video,
                                         RTMPMessage.Kind.video, RTMPMessage.Kind.setChunkSize, RTMPMessage.Kind.audio])
        #expect(messages[1].payload == video)
        #expect(messages[1].timestamp == 1000 && messages[2].timestamp == 1040 && messages[3].timestamp == 1080)
        #expect(Array(messages[3].payload.readableBytesView) == [0xCC, 0xDD])
        #expect(parser.chunkSize == 4096)
        #expect(messages[5].timestamp == 0x0100_0000 && messages[5].payload.readableBytes == 200)
        #expect(try AMF0.decodeAll(messages[0].payload) == [.string("createStream"), .number(2), .null])
    }

    /// Hostile chunk streams end the connection with a reason, never a crash or a huge buffer.
    @Test func hostileChunksAreRefused() {
        func refuses(_ bytes: [UInt8], _ reason: String) {
            var parser = RTMPChunkParser(maximumChunkSize: 65_536, maximumMessageSize: 1 << 20)
            var buffer = ByteBuffer(bytes: bytes)
            let error = #expect(throws: RTMPError.self, "\(reason)") { _ = try parser.parse(&buffer) }
            #expect(error?.code == .chunkStream)
        }
        refuses([0x43, 0, 0, 0, 0, 0, 1], "a type 1 header on a chunk stream never opened")
        refuses([0x03, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0], "a 16 MiB message")
        refuses([0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF], "a 2 GiB chunk size")
        refuses([0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0], "a zero chunk size")
        // 65 chunk streams on one connection.
        var many: [UInt8] = []
        for stream in 0..<65 { many += [0x00, UInt8(stream), 0, 0, 0, 0, 0, 1, 20, 0, 0, 0, 0, 0x05] }
        refuses(many, "65 chunk streams")
        // Nested arrays of nulls: each array within the item limit, the whole over the budget.
        var nested: [UInt8] = [0x0A, 0, 0, 0x10, 0]
        for _ in 0..<4096 { nested += [0x0A, 0, 0, 0, 16] + [UInt8](repeating: 0x05, count: 16) }
        let tooMany = #expect(throws: RTMPError.self) { _ = try AMF0.decodeAll(ByteBuffer(bytes: nested)) }
        #expect(tooMany?.code == .amf)
        // An AMF0 object nested 20 deep, or a strict array claiming 4 billion items.
        #expect(throws: RTMPError.self) { _ = try AMF0.decodeAll(ByteBuffer(bytes: [UInt8](repeating: 0x03, count: 20))) }
        #expect(throws: RTMPError.self) { _ = try AMF0.decodeAll(ByteBuffer(bytes: [0x0A, 0xFF, 0xFF, 0xFF, 0xFF])) }
    }

    /// AMF0 values come back as they were written.
    @Test func amf0RoundTrips() throws {
        let values: [AMF0] = [.string("connect"), .number(1), .object([.init(key: "app", value: .string("live")),
                                                                       .init(key: "flag", value: .boolean(true))]),
                              .null, .undefined, .ecmaArray([.init(key: "width", value: .number(320))]),
                              .strictArray([.number(1), .string("two")]), .date(1.5e12), .string(String(repeating: "x", count: 70_000))]
        var buffer = ByteBuffer()
        for value in values { value.encode(into: &buffer) }
        #expect(try AMF0.decodeAll(buffer) == values)
    }

    // MARK: session

    /// connect (app live), createStream, publish "news?key=…" asks the owner; accepted, media
    /// flows as FLV tags; an unknown application is rejected with `_error`.
    @Test func publishConversation() throws {
        var session = RTMPSession()
        func run(_ values: [AMF0], streamID: UInt32 = 0) -> [RTMPSession.Action] {
            var message = RTMPMessage.command(values)
            message.streamID = streamID
            return session.handle(message)
        }
        let connect = run([.string("connect"), .number(1), .object([.init(key: "app", value: .string("live")),
                                                                    .init(key: "tcUrl", value: .string("rtmp://h/live"))])])
        #expect(connect.count == 5)
        #expect(session.state == .connected)
        #expect(run([.string("createStream"), .number(2), .null]).count == 1)
        let publish = run([.string("publish"), .number(3), .null, .string("news?key=abc%21def"), .string("live")], streamID: 1)
        guard case .authorize(let channel, let key) = publish.first else {
            Issue.record("no authorization asked: \(publish)")
            return
        }
        #expect(channel == "news" && key == "abc!def")
        #expect(session.decide(.accept).count == 2)
        let media = session.handle(RTMPMessage(type: RTMPMessage.Kind.video, streamID: 1, timestamp: 40, payload: ByteBuffer(bytes: [0x17, 0])))
        guard case .media(9, 40, _) = media.first else {
            Issue.record("no media: \(media)")
            return
        }
        guard case .unpublish = run([.string("deleteStream"), .number(4), .null, .number(1)]).first else {
            Issue.record("deleteStream did not unpublish")
            return
        }

        var other = RTMPSession()
        var wrongApp = RTMPMessage.command([.string("connect"), .number(1), .object([.init(key: "app", value: .string("vod"))])])
        wrongApp.streamID = 0
        let refused = other.handle(wrongApp)
        guard case .close = refused.last else {
            Issue.record("an unknown application was not refused: \(refused)")
            return
        }
    }

    /// A session through connect, createStream and an accepted publish of `news`.
    static func publishingSession() -> RTMPSession {
        var session = RTMPSession()
        for (values, streamID) in [([AMF0.string("connect"), .number(1), .object([.init(key: "app", value: .string("live"))])], UInt32(0)),
                                   ([.string("createStream"), .number(2), .null], 0),
                                   ([.string("publish"), .number(3), .null, .string("news?key=k"), .string("live")], 1)] {
            var message = RTMPMessage.command(values)
            message.streamID = streamID
            _ = session.handle(message)
        }
        _ = session.decide(.accept)
        return session
    }

    /// An AMF0 data message of `values` on the published stream, handled by `session`.
    static func data(_ session: inout RTMPSession, _ values: [AMF0], timestamp: UInt32) -> [RTMPSession.Action] {
        var payload = ByteBuffer()
        for value in values { value.encode(into: &payload) }
        return session.handle(RTMPMessage(type: RTMPMessage.Kind.dataAMF0, streamID: 1, timestamp: timestamp, payload: payload))
    }

    /// A publisher's `onCuePoint` with a splice type is a cue for the channel (its `time`, else
    /// the message's timestamp), handed over through the pipe; other cue points are dropped.
    @Test func cuePointsBecomeSplices() throws {
        var session = Self.publishingSession()
        func data(_ values: [AMF0], timestamp: UInt32) -> [RTMPSession.Action] { Self.data(&session, values, timestamp: timestamp) }
        let out = data([.string("@setDataFrame"), .string("onCuePoint"), .object([
            .init(key: "name", value: .string("Cue-Out")), .init(key: "type", value: .string("event")),
            .init(key: "parameters", value: .object([.init(key: "duration", value: .string("30")), .init(key: "id", value: .string("break-7"))])),
        ])], timestamp: 12_000)
        guard case .cuePoint(let cue) = out.first else { Issue.record("no cue: \(out)"); return }
        #expect(cue == RTMPCuePoint(kind: .out, id: "break-7", duration: .init(value: 30_000, timescale: 1000), time: .init(value: 12_000, timescale: 1000)))
        let back = data([.string("onCuePoint"), .object([.init(key: "name", value: .string("scte35")), .init(key: "time", value: .number(20.5)),
                                                         .init(key: "parameters", value: .object([.init(key: "cue_type", value: .string("splice_in")),
                                                                                                  .init(key: "id", value: .string("bad \"id\""))]))])],
                        timestamp: 21_000)
        guard case .cuePoint(let end) = back.first else { Issue.record("no cue: \(back)"); return }
        #expect(end == RTMPCuePoint(kind: .in, id: nil, time: .init(value: 20_500, timescale: 1000)))
        #expect(data([.string("onCuePoint"), .object([.init(key: "name", value: .string("chapter-2"))])], timestamp: 1).isEmpty)
        let pipe = FLVPipe()
        pipe.signal(cue)
        pipe.signal(end)
        #expect(pipe.takeCuePoints() == [cue, end] && pipe.takeCuePoints().isEmpty)
    }

    /// `onTextData` (and `onMetaData` sent again while publishing) is timed data for the
    /// channel, its scalar properties kept; the first `onMetaData` goes into the FLV stream only,
    /// a later one into both; `onTextData` never into the FLV stream.
    @Test func textDataAndMetadataUpdatesBecomeTimedData() throws {
        var session = Self.publishingSession()
        func data(_ values: [AMF0], timestamp: UInt32) -> [RTMPSession.Action] { Self.data(&session, values, timestamp: timestamp) }
        let metadata: [AMF0] = [.string("@setDataFrame"), .string("onMetaData"), .ecmaArray([.init(key: "width", value: .number(640))])]
        let first = data(metadata, timestamp: 0)
        guard first.count == 1, case .media(18, 0, _) = first[0] else { Issue.record("first onMetaData: \(first)"); return }
        let update = data([.string("onMetaData"), .ecmaArray([.init(key: "title", value: .string("Evening news")),
                                                             .init(key: "width", value: .number(1280)),
                                                             .init(key: "live", value: .boolean(true)),
                                                             .init(key: "nested", value: .object([]))])], timestamp: 5_000)
        guard update.count == 2, case .media(18, 5_000, _) = update[0], case .textData(let updated) = update[1] else {
            Issue.record("onMetaData update: \(update)")
            return
        }
        #expect(updated == RTMPTextData(handler: "onMetaData", properties: [("title", "Evening news"), ("width", "1280"), ("live", "true")],
                                        time: .init(value: 5_000, timescale: 1000)))
        let text = data([.string("onTextData"), .object([.init(key: "text", value: .string("Hello")), .init(key: "language", value: .string("eng"))])],
                        timestamp: 7_250)
        guard text.count == 1, case .textData(let spoken) = text[0] else { Issue.record("onTextData: \(text)"); return }
        #expect(spoken == RTMPTextData(handler: "onTextData", properties: [("text", "Hello"), ("language", "eng")], time: .init(value: 7_250, timescale: 1000)))
        #expect(data([.string("onTextData"), .string("not an object")], timestamp: 8_000).isEmpty)
        let pipe = FLVPipe()
        pipe.signal(updated)
        pipe.signal(spoken)
        #expect(pipe.takeTextData() == [updated, spoken] && pipe.takeTextData().isEmpty)
    }

    /// Extended video tag headers: configuration, coded frames with and without composition
    /// offsets, command frames skipped, what is not taken refused.
    @Test func enhancedVideoTags() throws {
        let hvc1 = Array("hvc1".utf8), av01 = Array("av01".utf8)
        guard case .config("hevc", [1, 2])? = try EnhancedRTMPSource.parseVideo([0x90] + hvc1 + [1, 2]) else { Issue.record("config"); return }
        guard case .frame(let data, -2, true)? = try EnhancedRTMPSource.parseVideo([0x91] + hvc1 + [0xFF, 0xFF, 0xFE, 9]),
              Array(data) == [9] else { Issue.record("hvc1 frame"); return }
        guard case .frame(let x, 0, false)? = try EnhancedRTMPSource.parseVideo([0xA3] + hvc1 + [7]), Array(x) == [7] else {
            Issue.record("CodedFramesX"); return
        }
        guard case .frame(let a, 0, true)? = try EnhancedRTMPSource.parseVideo([0x91] + av01 + [5]), Array(a) == [5] else {
            Issue.record("av01 frame"); return
        }
        #expect(try EnhancedRTMPSource.parseVideo([0xD1, 0x00]) == nil)  // command frame
        #expect(try EnhancedRTMPSource.parseVideo([0x92] + hvc1) == nil)  // end of sequence
        let multitrack = #expect(throws: RTMPError.self) { try EnhancedRTMPSource.parseVideo([0x96, 0x00, 0x01]) }
        #expect(multitrack?.code == .unsupportedStream)
        #expect(multitrack?.oneLine == "Enhanced RTMP multitrack and ModEx video are not taken")
        #expect(throws: RTMPError.self) { try EnhancedRTMPSource.parseVideo([0x91] + Array("vp09".utf8)) }
        #expect(throws: RTMPError.self) { try EnhancedRTMPSource.parseVideo([0x17, 1, 0, 0, 0]) }
        #expect(throws: RTMPError.self) { try EnhancedRTMPSource.parseVideo([0x91, 0x68]) }
    }
}
