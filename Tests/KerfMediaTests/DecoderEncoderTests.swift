import KerfCore
import KerfTestSupport
import Testing
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.unit)) struct DecoderEncoderTests {
    @Test func decoderWalksEveryStateAndRejectsWrongCalls() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let track = input.tracks[0]
        let decoder = try Decoder(parameters: input.codecParameters(track: 0), timeBase: track.timeBase, threads: 1)
        let packet = Packet(), frame = Frame()
        #expect(decoder.state == .created)
        #expect(throws: MediaError.self) { _ = try decoder.send(packet) }
        #expect(throws: MediaError.self) { _ = try decoder.receive(into: frame) }

        try decoder.open()
        #expect(decoder.state == .opened)
        #expect(try decoder.receive(into: frame) == .tryAgain)
        #expect(throws: MediaError.self) { try decoder.open() }

        var frames = 0
        while try input.read(into: packet) == .packet {
            guard packet.streamIndex == 0 else { continue }
            #expect(try decoder.send(packet) == .accepted)
            #expect(decoder.state == .streaming)
            while try decoder.receive(into: frame) == .output {
                frames += 1
                #expect(frame.width == 640 && frame.height == 360)
            }
        }
        try decoder.drain()
        #expect(decoder.state == .draining)
        let drainError = #expect(throws: MediaError.self) { _ = try decoder.send(packet) }
        #expect(drainError?.code == .wrongState)
        #expect(throws: MediaError.self) { try decoder.drain() }
        while try decoder.receive(into: frame) == .output { frames += 1 }
        #expect(try decoder.receive(into: frame) == .endOfStream)
        #expect(frames == 250)

        decoder.close()
        #expect(decoder.state == .closed)
        #expect(throws: MediaError.self) { _ = try decoder.receive(into: frame) }
        decoder.close()  // harmless
    }

    @Test func encoderWalksEveryStateAndRejectsWrongCalls() throws {
        var settings = EncoderSettings(codecName: "libx264", timeBase: Rational(1, 25))
        settings.width = 640
        settings.height = 360
        settings.pixelFormat = "yuv420p"
        settings.options = ["preset": "ultrafast"]
        settings.threads = 1
        let encoder = try Encoder(settings: settings)
        let frame = Frame(), packet = Packet()
        #expect(encoder.state == .created)
        #expect(throws: MediaError.self) { _ = try encoder.codecParameters() }
        #expect(throws: MediaError.self) { try encoder.drain() }
        try encoder.open()
        #expect(encoder.state == .opened)
        #expect(try encoder.codecParameters().codec == "h264")
        #expect(try encoder.receive(into: packet) == .tryAgain)

        var packets = 0
        for (index, picture) in try decodedPictures(10).enumerated() {
            picture.ptsTicks = Int64(index)
            picture.forcesKeyframe = false
            #expect(try encoder.send(picture) == .accepted)
            #expect(encoder.state == .streaming)
            while try encoder.receive(into: packet) == .output { packets += 1 }
        }
        try encoder.drain()
        #expect(encoder.state == .draining)
        #expect(throws: MediaError.self) { _ = try encoder.send(frame) }
        while try encoder.receive(into: packet) == .output {
            packets += 1
            #expect(packet.timeBase == Rational(1, 25))
        }
        #expect(try encoder.receive(into: packet) == .endOfStream)
        #expect(packets == 10)
        encoder.close()
        #expect(encoder.state == .closed)
        #expect(throws: MediaError.self) { try encoder.open() }
    }

    @Test func unknownEncoderAndOptionsFailClearly() throws {
        let missing = #expect(throws: MediaError.self) {
            _ = try Encoder(settings: EncoderSettings(codecName: "no_such_encoder", timeBase: Rational(1, 25)))
        }
        #expect(missing?.code == .codecUnavailable)
        var settings = EncoderSettings(codecName: "libx264", timeBase: Rational(1, 25))
        settings.width = 64
        settings.height = 64
        settings.options = ["not-an-option": "1"]
        let encoder = try Encoder(settings: settings)
        let error = #expect(throws: MediaError.self) { try encoder.open() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("not-an-option") == true)
    }

    /// The first `count` decoded pictures of the 10 s fixture (640x360), each its own `Frame`.
    func decodedPictures(_ count: Int) throws -> [Frame] {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let decoder = try Decoder(parameters: input.codecParameters(track: 0), timeBase: input.tracks[0].timeBase, threads: 1)
        try decoder.open()
        let packet = Packet()
        var frames: [Frame] = []
        while frames.count < count, try input.read(into: packet) == .packet {
            guard packet.streamIndex == 0 else { continue }
            _ = try decoder.send(packet)
            let frame = Frame()
            while try decoder.receive(into: frame) == .output {
                frames.append(try frame.makeReference())
            }
        }
        return Array(frames.prefix(count))
    }
}
