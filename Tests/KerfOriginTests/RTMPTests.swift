import Foundation
import KerfMedia
import KerfTestSupport
import NIOCore
import Testing
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP

/// RTMP ingest: the chunk stream and AMF0 on hand-made bytes, the command conversation as a
/// state machine, and end to end with ffmpeg publishing (an RTMP client nobody here wrote) and
/// ffmpeg playing what the origin makes of it.
@Suite struct RTMPTests {
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

    // MARK: end to end

    static func origin(_ channels: [String]) async throws -> RunningOrigin {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-rtmp-root").path
        configuration.rtmpListen = "127.0.0.1:0"
        for name in channels {
            configuration.channels[name] = .init(input: "rtmp", segmentDuration: 1, window: 30)
            configuration.channels[name]?.key = "key-of-\(name)"
        }
        return try await RunningOrigin(configuration)
    }

    /// ffmpeg publishing a real-time test pattern with a tone to `rtmp://…/live/<path>`.
    static func publisher(_ origin: RunningOrigin, _ path: String, seconds: Int = 60) -> [String] {
        ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", String(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-b:a", "64k",
         "-f", "flv", "rtmp://127.0.0.1:\(origin.server.rtmpPort ?? 0)/live/\(path)"]
    }

    /// Waits until a channel's video playlist lists `count` segments.
    static func waitForSegments(_ origin: RunningOrigin, channel: String, count: Int) async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let playlist = try await curl([origin.base + "/live/\(channel)/video_180p/playlist.m3u8"])
            if playlist.status == 200, String(decoding: playlist.body, as: UTF8.self).components(separatedBy: "seg_").count > count { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CommandError(message: "channel \(channel) did not reach \(count) segments")
    }

    /// Connections refused at rtmp-max-publishers do not keep counting: once the others close,
    /// a new connection gets its handshake answered.
    @Test func refusedConnectionsAreUncounted() async throws {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-rtmp-root").path
        configuration.rtmpListen = "127.0.0.1:0"
        configuration.rtmpMaxPublishers = 1
        configuration.channels["news"] = .init(input: "rtmp", segmentDuration: 1, window: 30)
        configuration.channels["news"]?.key = "key-of-news"
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let port = try #require(origin.server.rtmpPort)
        let first = try RawConnection(port: port)
        try await Task.sleep(for: .milliseconds(100))
        for _ in 0..<3 {
            let refused = try RawConnection(port: port)
            #expect(refused.receive(atLeast: 1).closed)
        }
        first.close()
        try await Task.sleep(for: .milliseconds(200))
        let next = try RawConnection(port: port)
        next.send("\u{3}" + String(repeating: "a", count: 1536))
        let answer = next.receive(atLeast: 1 + 2 * 1536)
        #expect(!answer.closed && answer.text.utf8.count >= 1 + 2 * 1536, "\(answer.text.utf8.count) bytes, closed: \(answer.closed)")
    }

    /// Stopping the origin disconnects the RTMP connections still open, not only the listener.
    @Test func stopClosesOpenConnections() async throws {
        let origin = try await Self.origin(["news"])
        let port = try #require(origin.server.rtmpPort)
        let connection = try RawConnection(port: port, receiveTimeout: 3)
        connection.send("\u{3}" + String(repeating: "a", count: 1536))
        #expect(!connection.receive(atLeast: 1 + 2 * 1536).closed)
        await origin.stop()
        #expect(connection.receive(atLeast: 1 << 20).closed)
    }

    /// An Enhanced RTMP publisher (HEVC under the `hvc1` FourCC with B-frames and composition
    /// offsets, or AV1 under `av01`; AAC audio) is read without the FLV demuxer: the channel
    /// publishes CMAF whose every frame ffprobe decodes, at the source's size.
    @Test(arguments: ["hevc", "av1"]) func enhancedRTMPPublishes(_ codec: String) async throws {
        let origin = try await Self.origin(["news"])
        defer { Task { await origin.stop() } }
        let port = try #require(origin.server.rtmpPort)
        let dir = try Fixtures.temporaryDirectory("kerf-ertmp")
        defer { try? FileManager.default.removeItem(at: dir) }
        var source = Fixtures.path("hevc_aac.mp4")
        let (fourCC, size, expectedFrames) = codec == "hevc" ? ("hvc1", "640,360", 180) : ("av01", "320,180", 75)
        if codec == "av1" {
            source = dir.appendingPathComponent("av1.mp4").path
            let made = try Command.run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi",
                                                  "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:v", "libsvtav1",
                                                  "-preset", "12", "-g", "25", "-c:a", "aac", "-y", source])
            try #require(made.status == 0, "\(made.stderr)")
        }
        let input = try MediaInput(url: source)
        let video = try #require(input.tracks.first { $0.mediaType == .video })
        let audio = try #require(input.tracks.first { $0.mediaType == .audio })

        let connection = try RawConnection(port: port)
        connection.send(bytes: [3] + [UInt8](repeating: 0, count: 8) + (8..<1536).map { _ in UInt8.random(in: 0...255) })
        let answer = connection.receiveBytes(atLeast: 1 + 2 * 1536)
        #expect(!answer.closed && answer.bytes.count == 1 + 2 * 1536)
        connection.send(bytes: Array(answer.bytes[1..<1537]))
        func send(_ message: RTMPMessage, on chunkStream: UInt8, chunkSize: Int = 4096) {
            var bytes = message.chunks(chunkSize: chunkSize, chunkStream: chunkStream)
            connection.send(bytes: bytes.readBytes(length: bytes.readableBytes) ?? [])
        }
        send(.control(RTMPMessage.Kind.setChunkSize, 4096), on: 2, chunkSize: 128)
        send(.command([.string("connect"), .number(1), .object([.init(key: "app", value: .string("live")),
                                                                .init(key: "type", value: .string("nonprivate"))])]), on: 3)
        send(.command([.string("createStream"), .number(2), .null]), on: 3)
        send(.command([.string("publish"), .number(3), .null, .string("news?key=key-of-news"), .string("live")], streamID: 1), on: 4)
        func media(_ type: UInt8, _ timestamp: Int64, _ payload: [UInt8]) {
            send(RTMPMessage(type: type, streamID: 1, timestamp: UInt32(timestamp), payload: ByteBuffer(bytes: payload)), on: type == 9 ? 6 : 7)
        }
        // Extended video header: IsExHeader | FrameType << 4 | PacketType, then the FourCC.
        let tag = Array(fourCC.utf8)
        media(9, 0, [0x80 | 0x10 | 0] + tag + video.extradata)
        media(8, 0, [0xAF, 0] + audio.extradata)
        // Packets in decode order, RTMP timestamps 200 ms ahead (B-frames start below zero),
        // sent four times faster than real time.
        let packet = Packet()
        let started = Date()
        var frames = 0
        while try input.read(into: packet) == .packet {
            guard let dts = packet.dts?.rescaled(to: 1000).value, let pts = packet.pts?.rescaled(to: 1000).value else { continue }
            let bytes = packet.bytes
            if packet.streamIndex == video.index {
                // HEVC's coded frames carry a signed 24-bit composition offset, AV1's none.
                let offset = Int32(pts - dts)
                let composition = codec == "hevc"
                    ? [UInt8(truncatingIfNeeded: offset >> 16), UInt8(truncatingIfNeeded: offset >> 8), UInt8(truncatingIfNeeded: offset)] : []
                media(9, dts + 200, [0x80 | (packet.isKeyframe ? 0x10 : 0x20) | 1] + tag + composition + bytes)
                frames += 1
            } else if packet.streamIndex == audio.index {
                media(8, dts + 200, [0xAF, 1] + bytes)
            }
            let due = Double(dts) / 4000 - Date().timeIntervalSince(started)
            if due > 0 { try await Task.sleep(for: .seconds(due)) }
        }
        #expect(frames == expectedFrames)
        send(.command([.string("deleteStream"), .number(4), .null, .number(1)]), on: 3)
        try await Task.sleep(for: .milliseconds(500))
        connection.close()

        // Every frame published: the last segment is completed when the publisher leaves.
        let base = origin.base + "/live/news/"
        let folder = "video_\(video.height ?? 0)p/"
        var playlist = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            playlist = String(decoding: try await curl([base + folder + "playlist.m3u8"]).body, as: UTF8.self)
            let listed = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
                .compactMap { Double($0.dropFirst("#EXTINF:".count).prefix { $0 != "," }) }.reduce(0, +)
            if listed > Double(expectedFrames) / (codec == "hevc" ? 30 : 25) - 0.05 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let master = String(decoding: try await curl([base + "master.m3u8"]).body, as: UTF8.self)
        #expect(master.contains("CODECS=\"\(video.codecString ?? "?"),mp4a.40.2\""), "\(master)")
        #expect(master.contains("RESOLUTION=\(size.replacingOccurrences(of: ",", with: "x"))"), "\(master)")
        var joined = Data()
        let uris = playlist.split(separator: "\n").filter { $0.hasPrefix("seg_") }
        let map = try #require(playlist.split(separator: "\n").first { $0.hasPrefix("#EXT-X-MAP:URI=") })
        joined += try await curl([base + folder + map.dropFirst("#EXT-X-MAP:URI=\"".count).dropLast()]).body
        for uri in uris { joined += try await curl([base + folder + uri]).body }
        let file = dir.appendingPathComponent("video.mp4")
        try joined.write(to: file)
        let probe = try Command.run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                               "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", file.path])
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(codec),\(size),\(expectedFrames)",
                "\(probe.stdout) \(probe.stderr)")
    }

    /// Two publishers on two channels at once both play; a wrong key, an unknown channel and a
    /// second publisher on a busy channel are refused and create nothing; garbage, a truncated
    /// handshake and an oversized chunk close only their own connection.
    @Test func ffmpegPublishesAndPlays() async throws {
        let origin = try await Self.origin(["news", "sport", "spare"])
        defer { Task { await origin.stop() } }
        let port = try #require(origin.server.rtmpPort)
        let news = try BackgroundProcess("ffmpeg", Self.publisher(origin, "news?key=key-of-news"))
        defer { news.stop() }
        let sport = try BackgroundProcess("ffmpeg", Self.publisher(origin, "sport?key=key-of-sport"))
        defer { sport.stop() }
        try await Self.waitForSegments(origin, channel: "news", count: 2)
        try await Self.waitForSegments(origin, channel: "sport", count: 2)

        // Refused publishes: ffmpeg fails, nothing appears.
        for path in ["spare?key=key-of-news", "spare", "nowhere?key=key-of-news", "news?key=key-of-news"] {
            let refused = try await Command.runDetached("ffmpeg", Self.publisher(origin, path, seconds: 3))
            #expect(refused.status != 0, "publishing to \(path) was not refused")
        }
        #expect(try await curl([origin.base + "/live/spare/master.m3u8"]).status == 404)

        // Hostile connections: random bytes, a handshake cut short, a chunk size of 1 GiB.
        let garbage = try RawConnection(port: port)
        garbage.send(String(decoding: (0..<4000).map { _ in UInt8.random(in: 0...255) }, as: UTF8.self))
        #expect(garbage.receive(atLeast: 1 << 20).closed)
        let truncated = try RawConnection(port: port)
        truncated.send("\u{3}" + String(repeating: "a", count: 700))
        truncated.close()
        let oversized = try RawConnection(port: port)
        oversized.send("\u{3}" + String(repeating: "a", count: 1536))
        _ = oversized.receive(atLeast: 1 + 2 * 1536)
        oversized.send(String(repeating: "b", count: 1536))
        oversized.send(String(decoding: [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x40, 0, 0, 0] as [UInt8], as: UTF8.self))
        #expect(oversized.receive(atLeast: 1 << 20).closed)

        // Both channels still play: ffmpeg decodes 6 s of each.
        async let newsFrames = LiveTests.play(origin.base + "/live/news/master.m3u8", seconds: 6)
        async let sportFrames = LiveTests.play(origin.base + "/live/sport/master.m3u8", seconds: 6)
        for frames in [try await newsFrames, try await sportFrames] {
            #expect(frames.count >= 148 && frames.count <= 152, "\(frames.count) frames")
        }
    }
}
