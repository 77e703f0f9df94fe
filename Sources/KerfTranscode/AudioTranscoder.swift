import KerfCore
import KerfMedia
import Logging

/// Decodes one audio stream, resamples it, and encodes it to AAC once; the result is the single
/// audio rendition every variant of the ladder shares. Runs on the reading thread (audio costs
/// little next to video).
final class AudioTranscoder {
    let track: Int
    let source: TrackInfo
    let encoder: Encoder
    private let decoder: Decoder
    private let resampler: AudioResampler
    private let collector: PacketCollector
    private let decoded = Frame()
    private let chunk = Frame()
    private(set) var errors = DecodeErrors()

    /// AAC sample rates; other rates are resampled to 48 kHz.
    static let sampleRates: Set<Int> = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000]

    init(track: Int, source: TrackInfo, parameters: CodecParameters, collector: PacketCollector,
         bitRate: Int? = nil, file: String) throws {
        self.track = track
        self.source = source
        self.collector = collector
        decoder = try Decoder(parameters: parameters, timeBase: source.timeBase, subject: file)
        try decoder.open()
        let rate = source.sampleRate.flatMap { Self.sampleRates.contains($0) ? $0 : nil } ?? 48000
        // Mono and stereo are kept; more channels are downmixed to stereo (the AAC encoder takes
        // only a few layouts, and stereo is what every HLS/DASH player decodes).
        let channels = min(max(source.channels ?? 2, 1), 2)
        var settings = EncoderSettings(codecName: "aac", timeBase: Rational(1, Int64(rate)))
        settings.sampleRate = rate
        settings.channels = channels
        settings.sampleFormat = "fltp"
        settings.bitRate = bitRate ?? 64_000 * channels
        encoder = try Encoder(settings: settings)
        try encoder.open()
        resampler = try AudioResampler(sampleRate: rate, channels: channels, sampleFormat: "fltp",
                                       frameSize: max(encoder.frameSize, 1024))
    }

    /// Decodes one packet and encodes whatever full frames it completes.
    func decode(_ packet: Packet) throws {
        while try errors.skippingCorrupt({ () throws(MediaError) in try decoder.send(packet) }) == .tryAgain {
            try receiveFrames()
        }
        try receiveFrames()
    }

    /// Drains decoder, resampler and encoder at the end of the input.
    func finish() throws {
        _ = try errors.skippingCorrupt { () throws(MediaError) in try decoder.drain() }
        try receiveFrames()
        while try resampler.pull(into: chunk, flush: true) { try send(chunk) }
        try encoder.drain()
        try collector.collect(from: encoder, track: track)
        collector.finish(track: track)
        if errors.decoded == 0 {
            throw TranscodeError(.undecodable, "audio stream \(source.index) (\(source.codec)) cannot be decoded",
                                 reason: errors.first ?? "no audio frame came out of the decoder")
        }
    }

    private func receiveFrames() throws {
        var failures = 0
        while true {
            guard let result = try errors.skippingCorrupt({ () throws(MediaError) in try decoder.receive(into: decoded) }) else {
                failures += 1
                if failures > 64 { return }
                continue
            }
            guard result == .output else { return }
            errors.decoded += 1
            if decoded.ptsTicks == nil { decoded.ptsTicks = decoded.bestEffortTicks }
            try resampler.push(decoded, timeBase: source.timeBase)
            while try resampler.pull(into: chunk) { try send(chunk) }
        }
    }

    private func send(_ frame: Frame) throws {
        while try encoder.send(frame) == .tryAgain { try collector.collect(from: encoder, track: track) }
        try collector.collect(from: encoder, track: track)
    }
}

/// Counts packets a decoder rejected, keeping the first message for the report.
struct DecodeErrors: Sendable {
    var count = 0
    var first: String?
    /// Frames decoded successfully.
    var decoded = 0

    mutating func record(_ error: MediaError) {
        count += 1
        if first == nil { first = error.cause.isEmpty ? error.summary : error.cause }
    }

    /// Runs a decoder call: corrupt data is counted and gives `nil`; other errors are thrown.
    mutating func skippingCorrupt<T>(_ body: () throws(MediaError) -> T) throws(MediaError) -> T? {
        do {
            return try body()
        } catch {
            guard error.code == .invalidData else { throw error }
            record(error)
            return nil
        }
    }
}
