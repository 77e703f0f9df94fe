import Foundation
import KerfMedia
import KerfTestSupport
import NIOCore
import Testing
import KerfTestTags
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP

/// RTMP ingest end to end: ffmpeg publishing (an RTMP client nobody here wrote) and ffmpeg
/// playing what the origin makes of it, hand-made publishers on raw sockets, connection limits.
/// (The protocol itself on hand-made bytes: KerfRTMPTests.)
@Suite(.tags(.realtime)) struct RTMPTests {

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

    /// ffmpeg publishing a real-time test pattern with a tone to `rtmp://…/live/<path>`, until
    /// it is stopped (or `seconds`, for publishes that must be refused at once).
    static func publisher(_ origin: RunningOrigin, _ path: String, seconds: Int? = nil) -> [String] {
        ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"] + (seconds.map { ["-t", String($0)] } ?? []) + [
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-b:a", "64k",
         "-f", "flv", "rtmp://127.0.0.1:\(origin.server.rtmpPort ?? 0)/live/\(path)"]
    }

    /// Waits until a channel's video playlist lists `count` segments.
    static func waitForSegments(_ origin: RunningOrigin, channel: String, count: Int) async throws {
        try await waitUntil("channel \(channel) listing \(count) segments", timeout: .seconds(60), poll: .milliseconds(250)) {
            let playlist = try await curl([origin.base + "/live/\(channel)/video_180p/playlist.m3u8"])
            return playlist.status == 200 && String(decoding: playlist.body, as: UTF8.self).components(separatedBy: "seg_").count > count
        }
    }

    /// A raw connection whose RTMP handshake the server answered: counted and served.
    static func handshaken(_ port: Int) -> RawConnection? {
        guard let connection = try? RawConnection(port: port) else { return nil }
        connection.send("\u{3}" + String(repeating: "a", count: 1536))
        let answer = connection.receive(atLeast: 1 + 2 * 1536)
        return !answer.closed && answer.text.utf8.count >= 1 + 2 * 1536 ? connection : nil
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
        // The first connection is counted once its handshake is answered.
        let first = try #require(Self.handshaken(port))
        for _ in 0..<3 {
            let refused = try RawConnection(port: port)
            #expect(refused.receive(atLeast: 1).closed)
        }
        first.close()
        // Once the server has seen it close, a new connection is served; refused connections that
        // stayed counted would refuse it for good.
        let next = try await waitFor("a connection served after the first closed", timeout: .seconds(20)) { Self.handshaken(port) }
        next.close()
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

        let publisher = try RawRTMPPublisher(port: port, path: "news?key=key-of-news")
        let media = publisher.media
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
        // Half-close and read until the server closes: it has read everything sent.
        publisher.finish()

        // Every frame published: the last segment is completed when the publisher leaves.
        let base = origin.base + "/live/news/"
        let folder = "video_\(video.height ?? 0)p/"
        var playlist = ""
        try? await waitUntil("every frame listed", timeout: .seconds(30), poll: .milliseconds(250)) {
            playlist = String(decoding: try await curl([base + folder + "playlist.m3u8"]).body, as: UTF8.self)
            let listed = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
                .compactMap { Double($0.dropFirst("#EXTINF:".count).prefix { $0 != "," }) }.reduce(0, +)
            return listed > Double(expectedFrames) / (codec == "hevc" ? 30 : 25) - 0.05
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
        async let newsFrames = Live.play(origin.base + "/live/news/master.m3u8", seconds: 6)
        async let sportFrames = Live.play(origin.base + "/live/sport/master.m3u8", seconds: 6)
        for frames in [try await newsFrames, try await sportFrames] {
            #expect(frames.count >= 148 && frames.count <= 152, "\(frames.count) frames")
        }
    }
}
