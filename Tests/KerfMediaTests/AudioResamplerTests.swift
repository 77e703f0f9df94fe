import Testing
import KerfCore
import KerfTestSupport
import KerfMedia
import KerfTestTags

@Suite(.tags(.unit)) struct AudioResamplerTests {
    /// Decodes the MP2 audio of the MPEG-2 fixture (48 kHz, 1152-sample frames) into a
    /// resampler, leaving out the packets in `skipped`, and returns the frames pulled out.
    func run(resampler: AudioResampler, skipping skipped: Range<Int> = 0..<0) throws -> (frames: [(pts: Int64, count: Int)], decoded: Int) {
        let input = try MediaInput(url: Fixtures.path("mpeg2_mp2.ts"))
        let track = try #require(input.tracks.first { $0.mediaType == .audio })
        let decoder = try Decoder(parameters: input.codecParameters(track: track.index), timeBase: track.timeBase)
        try decoder.open()
        let packet = Packet(), frame = Frame(), out = Frame()
        var frames: [(Int64, Int)] = []
        var index = 0, decoded = 0
        func pull(flush: Bool) throws {
            while try resampler.pull(into: out, flush: flush) { frames.append((out.ptsTicks ?? -1, out.sampleCount)) }
        }
        func receive() throws {
            while try decoder.receive(into: frame) == .output {
                decoded += frame.sampleCount
                try resampler.push(frame, timeBase: track.timeBase)
                try pull(flush: false)
            }
        }
        while try input.read(into: packet) == .packet {
            guard packet.streamIndex == track.index else { continue }
            defer { index += 1 }
            if skipped.contains(index) { continue }
            _ = try decoder.send(packet)
            try receive()
        }
        try decoder.drain()
        try receive()
        try pull(flush: true)
        return (frames, decoded)
    }

    @Test func cutsExactFramesWithContinuousTimestamps() throws {
        let resampler = try AudioResampler(sampleRate: 44100, channels: 2, sampleFormat: "fltp", frameSize: 1024)
        let (frames, decoded) = try run(resampler: resampler)
        #expect(frames.count > 100)
        #expect(frames.dropLast().allSatisfy { $0.count == 1024 })
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $1.pts == $0.pts + Int64($0.count) })
        let total = frames.reduce(0) { $0 + $1.count }
        #expect(abs(Double(total) - Double(decoded) * 44100 / 48000) <= 2, "\(total) samples out of \(decoded)")
    }

    @Test func aGapInTheInputIsFilledWithSilenceSoLaterAudioStaysInSync() throws {
        let full = try run(resampler: try AudioResampler(sampleRate: 48000, channels: 2, sampleFormat: "fltp", frameSize: 1024))
        // Ten packets (240 ms) missing in the middle, as when corrupt packets are skipped.
        let gapped = try run(resampler: try AudioResampler(sampleRate: 48000, channels: 2, sampleFormat: "fltp", frameSize: 1024),
                             skipping: 100..<110)
        #expect(gapped.decoded == full.decoded - 11520)
        #expect(zip(gapped.frames, gapped.frames.dropFirst()).allSatisfy { $1.pts == $0.pts + Int64($0.count) })
        let fullEnd = full.frames.last.map { $0.pts + Int64($0.count) } ?? 0
        let gappedEnd = gapped.frames.last.map { $0.pts + Int64($0.count) } ?? 0
        #expect(abs(fullEnd - gappedEnd) <= 1024, "the audio after the gap ends at \(gappedEnd), not \(fullEnd)")
    }
}
