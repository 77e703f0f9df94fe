import Testing
import KerfCore
import KerfTestSupport
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.integration)) struct VideoFilterTests {
    /// Interlaced H.264 made by ffmpeg (two 25 fps pictures woven into each 12.5 fps frame).
    static func interlacedClip() throws -> String {
        let dir = try Fixtures.temporaryDirectory("kerf-interlaced")
        let path = dir.appendingPathComponent("interlaced.mp4").path
        let made = try Command.run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
                                              "-vf", "tinterlace=interleave_top,fieldorder=tff", "-c:v", "libx264",
                                              "-flags", "+ildct+ilme", "-x264-params", "tff=1", path])
        #expect(made.status == 0, "\(made.stderr)")
        return path
    }

    @Test func deinterlacesEveryPictureIntoOneProgressivePicture() throws {
        let input = try MediaInput(url: try Self.interlacedClip())
        let track = try #require(input.tracks.first)
        #expect(track.fieldOrder == .topFieldFirst)
        let decoder = try Decoder(parameters: input.codecParameters(track: 0), timeBase: track.timeBase)
        try decoder.open()
        let filter = try VideoFilter(description: "bwdif=mode=send_frame:parity=auto:deint=all", width: 320, height: 240,
                                     pixelFormat: "yuv420p", timeBase: track.timeBase)
        let packet = Packet(), frame = Frame(), output = Frame()
        var sent: [Int64] = [], received: [Int64] = [], interlacedIn = 0, interlacedOut = 0
        func pull() throws {
            while try filter.receive(into: output) == .output {
                received.append(output.ptsTicks ?? -1)
                if output.isInterlaced { interlacedOut += 1 }
            }
        }
        func decode() throws {
            while try decoder.receive(into: frame) == .output {
                if frame.isInterlaced { interlacedIn += 1 }
                sent.append(frame.ptsTicks ?? -1)
                try filter.send(frame)
                try pull()
            }
        }
        while try input.read(into: packet) == .packet {
            _ = try decoder.send(packet)
            try decode()
        }
        try decoder.drain()
        try decode()
        try filter.drain()
        try pull()
        #expect(sent.count == 25 && interlacedIn == 25)
        #expect(received == sent, "one progressive picture per picture, same timestamps")
        #expect(interlacedOut == 0)
    }

    @Test func aChainThatDoesNotParseIsAnInvalidArgument() {
        #expect {
            _ = try VideoFilter(description: "no_such_filter=1", width: 320, height: 240, pixelFormat: "yuv420p",
                                timeBase: Rational(1, 25))
        } throws: { error in
            (error as? MediaError)?.code == .invalidArgument
        }
    }
}
