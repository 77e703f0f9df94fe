import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// Timed ID3 metadata of an MPEG-TS input (Fixtures/id3_h264_aac.ts: three ID3v2.4 tags at 0,
/// 2.5 and 6 s, as ffprobe lists them) carried into the CMAF segments as `emsg` boxes (AOM ID3
/// in CMAF: version 1, scheme https://aomedia.org/emsg/ID3), read back here box by box.
@Suite(.tags(.integration)) struct TimedMetadataTests {
    static let input = Fixtures.path("id3_h264_aac.ts")

    /// The tag Fixtures/make-id3-ts.py writes: ID3v2.4, one TXXX frame "kerf" = `text`.
    static func tag(_ text: String) -> [UInt8] {
        func syncsafe(_ n: Int) -> [UInt8] { [UInt8((n >> 21) & 0x7F), UInt8((n >> 14) & 0x7F), UInt8((n >> 7) & 0x7F), UInt8(n & 0x7F)] }
        let body: [UInt8] = [3] + Array("kerf".utf8) + [0] + Array(text.utf8)
        let frame = Array("TXXX".utf8) + syncsafe(body.count) + [0, 0] + body
        return Array("ID3".utf8) + [4, 0, 0] + syncsafe(frame.count) + frame
    }

    struct Message: Equatable {
        var segment: String
        var seconds: Double
        var scheme: String
        var data: [UInt8]
        var id: Int
        /// event_duration in seconds (nil: 0xFFFFFFFF, unknown).
        var duration: Double?
    }

    /// The emsg boxes at the top level of each segment of `folder`, in order.
    static func messages(in folder: URL) throws -> [Message] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("seg_") }
            .sorted { Int($0.dropFirst(4).prefix { $0.isNumber })! < Int($1.dropFirst(4).prefix { $0.isNumber })! }
        return try names.flatMap { name in
            EventMessageBox.read([UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))).map {
                Message(segment: name, seconds: $0.seconds, scheme: $0.scheme, data: $0.data, id: $0.id, duration: $0.duration)
            }
        }
    }

    @Test func tagsBecomeEventMessagesOfTheirSegments() throws {
        let probe = try Command.ffprobe(["-show_entries", "stream=codec_name", "-select_streams", "d", "-count_packets",
                                         "-show_entries", "stream=nb_read_packets", Self.input])
        let streams = try #require(probe["streams"] as? [[String: Any]])
        #expect(streams.first?["codec_name"] as? String == "timed_id3")
        #expect(streams.first?["nb_read_packets"] as? String == "3")

        let dir = try Fixtures.temporaryDirectory("kerf-id3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let result = try Command.run(Fixtures.kerf, ["package", Self.input, "-o", out.path, "--segment-duration", "2",
                                                     "--formats", "hls,dash,hls-ts"])
        try #require(result.status == 0, "\(result.stderr)")
        let scheme = "https://aomedia.org/emsg/ID3"
        #expect(try Self.messages(in: out.appendingPathComponent("video_360p")) == [
            Message(segment: "seg_1.m4s", seconds: 0, scheme: scheme, data: Self.tag("first tag"), id: 1),
            Message(segment: "seg_2.m4s", seconds: 2.5, scheme: scheme, data: Self.tag("second tag"), id: 2),
            Message(segment: "seg_4.m4s", seconds: 6, scheme: scheme, data: Self.tag("third tag"), id: 3),
        ])
        let audio = try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasPrefix("audio_") }!
        #expect(try Self.messages(in: out.appendingPathComponent(audio)).isEmpty)

        let mpd = out.appendingPathComponent("manifest.mpd")
        let text = try String(contentsOf: mpd, encoding: .utf8)
        #expect(text.components(separatedBy: "<InbandEventStream schemeIdUri=\"\(scheme)\"/>").count == 2)
        let schema = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, mpd.path])
        #expect(schema.status == 0, "\(schema.stderr)")
        let deep = try Command.run(Fixtures.kerf, ["validate", "--deep", mpd.path])
        #expect(deep.status == 0 && deep.stdout.contains("0 errors, 0 warnings"), "\(deep.stdout)")

        // The MPEG-TS variant carries the tags as they came (a timed_id3 stream, PES of ID3),
        // each in the segment it falls in, at its time (+10 s: the variants' timestamp offset).
        func tags(_ file: String) throws -> [(time: String, data: String)] {
            let probe = try Command.ffprobe(["-select_streams", "d", "-show_entries", "packet=pts_time,data", "-show_data", file])
            return (probe["packets"] as? [[String: Any]] ?? []).map { ($0["pts_time"] as? String ?? "", $0["data"] as? String ?? "") }
        }
        let original = try tags(Self.input)
        try #require(original.count == 3)
        var found: [(segment: Int, time: String, data: String)] = []
        for segment in 1...5 {
            let file = out.appendingPathComponent("ts_video_360p/seg_\(segment).ts").path
            let streams = try Command.ffprobe(["-show_entries", "stream=codec_name", file])["streams"] as? [[String: Any]] ?? []
            #expect(streams.contains { $0["codec_name"] as? String == "timed_id3" }, "seg_\(segment).ts has no timed_id3 stream")
            found += try tags(file).map { (segment, $0.time, $0.data) }
        }
        #expect(found.map(\.segment) == [1, 2, 4])
        #expect(found.map(\.time) == ["10.000000", "12.500000", "16.000000"])
        #expect(found.map(\.data) == original.map(\.data))
    }
}
