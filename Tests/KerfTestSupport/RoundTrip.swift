import KerfCore
import KerfMedia

/// Decodes every video and audio packet of a file and re-encodes it (libx264 ultrafast, AAC)
/// into an MP4 in memory, through the `Packet`/`Frame` wrappers. Used by the leak tests.
public enum RoundTrip {
    public struct Counts: Sendable, Equatable {
        public var decodedFrames: [Int: Int] = [:]
        public var encodedPackets: [Int: Int] = [:]
        public var outputBytes = 0
    }

    public static func run(path: String) throws -> Counts {
        let input = try MediaInput(url: path)
        let output = MediaOutput.self
        let sink = MemoryByteSink()
        let muxer = try output.init(format: "mp4", sink: sink, name: "memory")
        struct Lane { let decoder: Decoder; let encoder: Encoder; let stream: Int }
        var lanes: [Int: Lane] = [:]
        for track in input.tracks where track.mediaType == .video || track.mediaType == .audio {
            let decoder = try Decoder(parameters: input.codecParameters(track: track.index), timeBase: track.timeBase,
                                      threads: 1, subject: path)
            try decoder.open()
            var settings: EncoderSettings
            if track.mediaType == .video {
                settings = EncoderSettings(codecName: "libx264", timeBase: track.timeBase)
                settings.width = track.width
                settings.height = track.height
                settings.pixelFormat = "yuv420p"
                settings.frameRate = track.frameRate
                settings.gopSize = 50
                settings.bitRate = 300_000
                settings.options = ["preset": "ultrafast"]
            } else {
                settings = EncoderSettings(codecName: "aac", timeBase: Rational(1, Int64(track.sampleRate ?? 48000)))
                settings.sampleRate = track.sampleRate
                settings.channels = track.channels
                settings.bitRate = 96_000
            }
            settings.threads = 1
            let encoder = try Encoder(settings: settings)
            try encoder.open()
            let stream = try muxer.addStream(parameters: encoder.codecParameters(), timeBase: encoder.timeBase)
            lanes[track.index] = Lane(decoder: decoder, encoder: encoder, stream: stream)
        }
        try muxer.writeHeader()
        var counts = Counts()
        let packet = Packet(), encoded = Packet()
        let pool = FramePool(capacity: 4)

        func pump(_ index: Int, _ lane: Lane) throws {
            while true {
                let frame = pool.acquire()
                defer { pool.release(frame) }
                let result = try lane.decoder.receive(into: frame)
                guard result == .output else {
                    if result == .endOfStream { try lane.encoder.drain() }
                    break
                }
                counts.decodedFrames[index, default: 0] += 1
                if let time = frame.bestEffortTicks, lane.encoder.settings.codecName == "aac" {
                    // Decoded audio timestamps are in the stream time base; the encoder's is 1/rate.
                    let streamBase = input.tracks[index].timeBase
                    frame.ptsTicks = MediaTime(value: time, timeBase: streamBase)
                        .rescaled(to: lane.encoder.settings.timeBase.denominator).value
                } else {
                    frame.ptsTicks = frame.bestEffortTicks
                }
                // The decoder's picture type would otherwise force the same type in the encoder.
                frame.forcesKeyframe = false
                _ = try lane.encoder.send(frame)
                try collect(index, lane)
            }
            try collect(index, lane)
        }

        func collect(_ index: Int, _ lane: Lane) throws {
            while try lane.encoder.receive(into: encoded) == .output {
                counts.encodedPackets[index, default: 0] += 1
                try muxer.write(encoded, toStream: lane.stream)
            }
        }

        while try input.read(into: packet) == .packet {
            guard let lane = lanes[packet.streamIndex] else { continue }
            _ = try lane.decoder.send(packet)
            try pump(packet.streamIndex, lane)
        }
        for (index, lane) in lanes.sorted(by: { $0.key < $1.key }) {
            try lane.decoder.drain()
            try pump(index, lane)
            try collect(index, lane)
            lane.decoder.close()
            lane.encoder.close()
        }
        try muxer.finish()
        counts.outputBytes = sink.bytes.count
        return counts
    }
}
