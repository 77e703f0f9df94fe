import Foundation
import KerfTestSupport
import Testing
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.integration)) struct RemuxerTests {
    struct ProbedPacket: Equatable, CustomStringConvertible {
        var stream: Int
        var size: Int
        var pts: Double
        var description: String { "#\(stream) \(size)B @\(pts)" }
    }

    /// ffprobe's view of the packets, the oracle.
    func packets(_ path: String) throws -> [ProbedPacket] {
        let json = try Command.ffprobe(["-show_entries", "packet=stream_index,size,pts_time", path])
        return (json["packets"] as? [[String: Any]] ?? []).map {
            ProbedPacket(stream: $0["stream_index"] as? Int ?? -1, size: Int($0["size"] as? String ?? "") ?? -1,
                         pts: Double($0["pts_time"] as? String ?? "") ?? .nan)
        }
    }

    func remux(_ source: String, to format: String, _ destination: String) throws -> Remuxer.Statistics {
        let input = try MediaInput(url: source)
        let output = try MediaOutput(format: format, path: destination)
        return try Remuxer(input: input, output: output).run()
    }

    @Test func mp4ToMatroskaToMP4KeepsEveryPacket() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = Fixtures.path("h264_aac_10s.mp4")
        let mkv = dir.appendingPathComponent("copy.mkv").path
        let mp4 = dir.appendingPathComponent("copy.mp4").path
        let first = try remux(original, to: "matroska", mkv)
        let second = try remux(mkv, to: "mp4", mp4)
        #expect(first == second)
        #expect(first.packets == 720)

        let before = try packets(original), middle = try packets(mkv), after = try packets(mp4)
        #expect(before.count == 720)
        #expect(after.count == before.count && middle.count == before.count)
        // Compare per stream, in presentation order; Matroska stores milliseconds, so pts agree
        // within half a millisecond (AAC frames are 21.333 ms).
        for stream in 0...1 {
            let a = before.filter { $0.stream == stream }.sorted { $0.pts < $1.pts }
            let b = after.filter { $0.stream == stream }.sorted { $0.pts < $1.pts }
            #expect(a.map(\.size) == b.map(\.size))
            let worst = zip(a, b).map { abs($0.pts - $1.pts) }.max() ?? .infinity
            #expect(worst <= 0.0005, "stream \(stream) pts differ by up to \(worst) s")
        }
        // The video track's timestamps are exact multiples of 40 ms and survive unchanged.
        #expect(before.filter { $0.stream == 0 }.map(\.pts) == after.filter { $0.stream == 0 }.map(\.pts))
        // And ffmpeg decodes the result without complaint.
        let decode = try Command.run("ffmpeg", ["-v", "error", "-i", mp4, "-f", "null", "-"])
        #expect(decode.status == 0 && decode.stderr.isEmpty)
    }

    @Test func mp4ToMPEGTSDecodes() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ts = dir.appendingPathComponent("copy.ts").path
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let output = try MediaOutput(format: "mpegts", path: ts)
        #expect(try Remuxer(input: input, output: output).run().packets == 720)
        #expect(try packets(ts).count == 720)
        let decode = try Command.run("ffmpeg", ["-v", "error", "-i", ts, "-f", "null", "-"])
        #expect(decode.status == 0, "\(decode.stderr)")
    }

    @Test func fragmentedMP4IntoMemory() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let sink = MemoryByteSink()
        let output = try MediaOutput(format: "mp4", sink: sink, name: "memory")
        let stats = try Remuxer(input: input, output: output, tracks: [0])
            .run(headerOptions: ["movflags": "+frag_keyframe+empty_moov+default_base_moof"])
        #expect(stats.packets == 250)
        let bytes = sink.bytes
        #expect(Array(bytes[4..<8]) == Array("ftyp".utf8))
        let text = String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7f ? $0 : 0x2e }, as: UTF8.self)
        #expect(text.components(separatedBy: "moof").count - 1 == 5)  // one fragment per 2 s GOP
        // Read it back through a custom source.
        let back = try MediaInput(source: MemoryByteSource(bytes: bytes), name: "fragmented")
        #expect(back.tracks.first?.codecString == "avc1.64001e")
    }

    @Test func outputCallsInTheWrongOrderThrow() throws {
        let output = try MediaOutput(format: "mp4", sink: MemoryByteSink(), name: "memory")
        let early = #expect(throws: MediaError.self) { try output.write(Packet(), toStream: 0) }
        #expect(early?.code == .wrongState)
        #expect(throws: MediaError.self) { try output.finish() }
        let unknown = #expect(throws: MediaError.self) {
            _ = try MediaOutput(format: "no-such-muxer", sink: MemoryByteSink(), name: "x")
        }
        #expect(unknown?.code == .invalidArgument)
    }
}
