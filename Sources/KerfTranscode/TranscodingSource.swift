import KerfCore
import KerfMedia
import KerfPackager
import Logging

/// A packet source that re-encodes an input: the packager reads it like a demuxed file.
///
/// Copied streams pass through; the re-encoded video stream becomes one track per ladder rung,
/// the re-encoded audio one AAC track. Packets come out interleaved by decode time
/// (`PacketCollector`), produced on demand: reading pulls input through the decoders, and the
/// rungs' bounded queues hold the reader back when encoders lag, so memory does not grow with
/// the input's length. No intermediate file is written.
public final class TranscodingSource: PacketSource {
    public let url: String
    public let tracks: [TrackInfo]
    public let container: ContainerInfo
    private let parameters: [CodecParameters]
    private let input: any PacketSource
    private let collector: PacketCollector
    private var routes: [Int: Route] = [:]
    private var copyTracks: [Int] = []
    private let ladder: VideoLadder?
    private let audio: [AudioTranscoder]
    private var inputExhausted = false
    private var finished = false
    private let reading = Packet()
    private let logger: Logger
    private var unreadable = 0
    /// Bytes of the input's packets read so far (what was ingested, before re-encoding).
    public var bytesRead: Int { input.bytesRead }

    private enum Route {
        case copy(Int)
        case video
        case audio(AudioTranscoder)
    }

    /// - Parameters:
    ///   - plan: the treatment of each track (unplanned tracks are left out).
    ///   - rungs: the ladder fitted to the source video.
    ///   - encoder: the selected family and its device; `decodeDevice` the device decoding uses.
    ///   - splicePoints: times from the first picture that must be keyframes (splices).
    public init(input: any PacketSource, plan: TranscodePlan, rungs: [Ladder.ResolvedRung], family: EncoderFamily,
                device: HardwareDevice?, decodeDevice: HardwareDevice?, segmentDuration: MediaTime,
                splicePoints: [MediaTime] = [], threadsPerEncoder: Int = 0, logger: Logger) throws {
        self.input = input
        self.url = input.url
        self.container = input.container
        self.logger = logger
        var outputs: [TrackInfo] = []
        var parameters: [CodecParameters] = []
        var sparse: [Bool] = []
        var ladderTracks: [Int] = []
        var audioPlans: [(track: TrackInfo, output: Int)] = []
        var videoSource: TrackInfo?
        for track in input.tracks {
            guard let treatment = plan.treatments[track.index] else { continue }
            switch treatment {
            case .drop:
                continue
            case .copy:
                var copy = track
                copy.index = outputs.count
                routes[track.index] = .copy(outputs.count)
                copyTracks.append(outputs.count)
                outputs.append(copy)
                parameters.append(input.codecParameters(track: track.index))
                // Subtitles and data (SCTE-35) come now and then: never waited for.
                sparse.append(track.mediaType == .subtitle || track.mediaType == .data)
            case .transcode where track.mediaType == .video:
                videoSource = track
                routes[track.index] = .video
                for _ in rungs {
                    ladderTracks.append(outputs.count)
                    outputs.append(track)  // replaced once the encoders are open
                    parameters.append(input.codecParameters(track: track.index))
                    sparse.append(false)
                }
            case .transcode:
                audioPlans.append((track, outputs.count))
                outputs.append(track)
                parameters.append(input.codecParameters(track: track.index))
                sparse.append(false)
            }
        }
        let collector = PacketCollector(sparse: sparse)
        self.collector = collector
        let ladder = try videoSource.map { videoSource in
            try VideoLadder(source: videoSource, parameters: input.codecParameters(track: videoSource.index),
                            rungs: rungs, tracks: ladderTracks, family: family, device: device,
                            decodeDevice: decodeDevice, segmentDuration: segmentDuration, splicePoints: splicePoints,
                            collector: collector, threadsPerEncoder: threadsPerEncoder,
                            file: input.url, logger: logger)
        }
        self.ladder = ladder
        var transcoders: [AudioTranscoder] = []
        do {
            for rung in ladder?.rungs ?? [] {
                let encoded = try rung.encoder.codecParameters()
                var info = TrackInfo(parameters: encoded, index: rung.track, timeBase: rung.encoder.timeBase)
                info.frameRate = videoSource?.frameRate
                info.bitRate = rung.rung.bitRate
                info.sampleAspectRatio = Rational(1, 1)
                outputs[rung.track] = info
                parameters[rung.track] = encoded
            }
            for (track, output) in audioPlans {
                let transcoder = try AudioTranscoder(track: output, source: track, parameters: input.codecParameters(track: track.index),
                                                     collector: collector, file: input.url)
                let encoded = try transcoder.encoder.codecParameters()
                var info = TrackInfo(parameters: encoded, index: output, timeBase: transcoder.encoder.timeBase)
                info.language = track.language
                info.isDefault = track.isDefault
                outputs[output] = info
                parameters[output] = encoded
                routes[track.index] = .audio(transcoder)
                transcoders.append(transcoder)
            }
        } catch {
            ladder?.cancel()
            ladder?.join()
            throw error
        }
        audio = transcoders
        tracks = outputs
        self.parameters = parameters
    }

    deinit {
        ladder?.cancel()
        ladder?.join()
    }

    public func codecParameters(track index: Int) -> CodecParameters { parameters[index] }

    /// Codes the first picture presented at or after `time` (the input's timeline) as a keyframe
    /// in every rung (a live splice), or the next picture decoded when it has passed. Call from
    /// the thread that reads.
    public func forceKeyframe(at time: MediaTime) {
        ladder?.forceKeyframe(at: time)
    }

    public func read(into packet: Packet) throws -> MediaInput.ReadResult {
        do {
            while true {
                switch try collector.next(inputExhausted: inputExhausted) {
                case .packet(let next):
                    next.move(into: packet)
                    return .packet
                case .endOfStream:
                    finish()
                    return .endOfStream
                case .needsInput:
                    try pump()
                }
            }
        } catch {
            ladder?.cancel()
            throw error
        }
    }

    /// Per-rung statistics (frames encoded, CPU time); complete once reading has ended.
    public var rungReports: [PackageSummary.Rung] {
        ladder?.rungs.map { rung in
            PackageSummary.Rung(name: rung.rung.name, width: rung.rung.width, height: rung.rung.height, bitRate: rung.rung.bitRate,
                       encoder: rung.encoder.settings.codecName, frames: rung.frames, cpuSeconds: rung.busySeconds)
        } ?? []
    }

    /// Corrupt packets skipped by the decoders.
    public var skippedPackets: Int { (ladder?.errors.count ?? 0) + audio.reduce(0) { $0 + $1.errors.count } }

    private func finish() {
        guard !finished else { return }
        finished = true
        ladder?.join()
        if skippedPackets > 0 {
            logger.warning("\(url): skipped \(skippedPackets) corrupt packet(s) while decoding")
        }
    }

    /// Reads one input packet and sends it where it goes.
    private func pump() throws {
        var damaged = DecodeErrors()
        guard let result = try damaged.skippingCorrupt({ () throws(MediaError) in
            do { return try input.read(into: reading) } catch let error as MediaError { throw error } catch {
                // A source that is not a demuxer (an RTMP publisher's packets) failing.
                throw MediaError(.io, "cannot read the input: \(error)", file: url)
            }
        }) else {
            // A damaged stretch of the container: the decoders resynchronise on what follows.
            unreadable += 1
            if unreadable > 1000 { throw TranscodeError(.undecodable, "the input is unreadable", reason: damaged.first ?? "", file: url) }
            logger.warning("\(url): skipping unreadable data: \(damaged.first ?? "")")
            return
        }
        unreadable = 0
        guard result == .packet else {
            inputExhausted = true
            try ladder?.finish()
            for transcoder in audio { try transcoder.finish() }
            for track in copyTracks { collector.finish(track: track) }
            return
        }
        switch routes[reading.streamIndex] {
        case .copy(let output):
            let copy = try reading.makeReference()
            copy.streamIndex = output
            collector.append(copy, track: output)
        case .video:
            try ladder?.decode(reading)
        case .audio(let transcoder):
            try transcoder.decode(reading)
        case nil:
            break
        }
    }
}
