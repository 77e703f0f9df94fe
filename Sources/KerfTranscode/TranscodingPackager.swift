import KerfCore
import KerfMedia
import KerfPackager
import Logging

/// `kerf package` with the transcoding fallback: stream copy where it works, re-encoding where
/// it does not (or where asked), and the packager fed directly from the encoders.
public final class TranscodingPackager {
    public let options: PackageOptions
    public let transcode: TranscodeOptions
    private let logger: Logger
    /// Called with the fraction of the input read (0…1) and the media time reached, in seconds.
    public var progress: (@Sendable (_ fraction: Double, _ mediaSeconds: Double) -> Void)?
    /// Called with each decision worth telling the user (what is re-encoded and why, which
    /// encoder was chosen, why others were skipped).
    public var notice: (@Sendable (String) -> Void)?
    /// Called with warnings to print even in machine-readable mode (splices moved to a later keyframe).
    public var warning: (@Sendable (String) -> Void)?

    public init(options: PackageOptions, transcode: TranscodeOptions, logger: Logger = Logger(label: "kerf.transcode")) {
        self.options = options
        self.transcode = transcode
        self.logger = logger
    }

    private var decisions: [String] = []

    private func tell(_ line: String) {
        decisions.append(line)
        logger.info("\(line)")
        notice?(line)
    }

    /// Packages the inputs. Copy or re-encode is decided from the opened inputs before the first
    /// read (`TranscodeDecision`); a stream-copy pass is made only when nothing rules it out, and
    /// when it finds a problem while reading (`.needsTranscoding`) under `--transcode auto`, the
    /// inputs are read again to re-encode the video, which a notice says.
    /// - Throws: `TranscodeError`, `PackagerError` or `MediaError`; nothing is published then.
    @discardableResult
    public func run() throws -> PackageSummary {
        if transcode.mode == .never && transcode.ladder != nil {
            throw TranscodeError(.invalidOptions, "--ladder needs transcoding", reason: "it cannot be combined with --transcode never")
        }
        if transcode.mode == .never { return try makeJob(sources: nil).run() }
        var inputs = try openInputs()
        var decision = decide(inputs)
        if let problem = decision.keyframeProblem {
            tell("stream copy is not possible (\(Self.describe(problem))); re-encoding the video")
        }
        var streamCopyPasses = 0
        if decision.basis == .streamCopy {
            if !decision.keyframesKnown && transcode.mode == .auto {
                logger.debug("not every video track has a keyframe index: GOPs and alignment are checked while reading")
            }
            do {
                return try makeJob(sources: inputs).run()
            } catch let error as PackagerError where error.code == .needsTranscoding && transcode.mode == .auto {
                tell("the stream-copy pass found that stream copy is not possible (\(Self.describe(error))); reading the inputs again to re-encode the video")
                streamCopyPasses += 1
                inputs = try openInputs()
                decision = decision.reencodingVideo(because: error)
            }
        }
        return try runTranscoding(inputs: inputs, plans: decision.plans, streamCopyPasses: streamCopyPasses)
    }

    /// Copy or re-encode, from the opened inputs' streams and keyframe indexes (no packet read).
    private func decide(_ inputs: [MediaInput]) -> TranscodeDecision {
        let described = inputs.map { input in
            var keyframes: [Int: KeyframeIndex] = [:]
            for track in input.tracks where track.mediaType == .video {
                keyframes[track.index] = input.keyframeIndex(track: track.index)
            }
            return StreamCopyForecast.Input(path: input.url, tracks: input.tracks, keyframes: keyframes)
        }
        return TranscodeDecision(inputs: described, mode: transcode.mode, ladderRequested: transcode.ladder != nil,
                                 cmaf: options.formats.contains(.hls) || options.formats.contains(.dash),
                                 selection: options.selection, segmentDuration: options.segmentDuration)
    }

    /// "message: reason", or the message alone.
    private static func describe(_ error: PackagerError) -> String {
        error.reason.isEmpty ? error.message : "\(error.message): \(error.reason)"
    }

    private func openInputs() throws -> [MediaInput] {
        try options.inputs.map { path -> MediaInput in
            do { return try MediaInput(url: path) } catch let error as MediaError { throw error.at(file: path) }
        }
    }

    private func makeJob(sources: [any PacketSource]?, selection: StreamSelection? = nil) -> PackagingJob {
        var options = self.options
        if let selection { options.selection = selection }
        let job = PackagingJob(options: options, sources: sources, logger: logger)
        job.progress = progress
        job.warning = warning
        return job
    }

    /// - Parameter streamCopyPasses: stream-copy passes made before (1 when one found a problem).
    private func runTranscoding(inputs: [MediaInput], plans: [TranscodePlan], streamCopyPasses: Int) throws -> PackageSummary {
        let ladderInputs = plans.indices.filter { plans[$0].ladderTrack != nil }
        if transcode.ladder != nil && ladderInputs.count > 1 {
            throw TranscodeError(.invalidOptions, "--ladder re-encodes the video of one input",
                                 reason: "\(ladderInputs.count) inputs have video to re-encode; give one input, or none of --ladder")
        }
        for (index, plan) in plans.enumerated() {
            for track in inputs[index].tracks {
                guard let treatment = plan.treatments[track.index] else { continue }
                let label = "\(inputs[index].url) stream \(track.index) (\(track.codec))"
                switch treatment {
                case .copy: tell("\(label): copy")
                case .transcode(let reason):
                    let deinterlaced = track.fieldOrder?.isInterlaced == true ? " (deinterlaced with \(VideoLadder.deinterlaceFilter))" : ""
                    tell("\(label): re-encode: \(reason)\(deinterlaced)")
                case .drop(let reason): tell("\(label): left out: \(reason)")
                }
            }
        }
        // One encoder family per codec, chosen once for the whole job.
        var selections: [String: EncoderSelection<HardwareDevice>] = [:]
        var rungsByInput: [Int: [Ladder.ResolvedRung]] = [:]
        for index in ladderInputs {
            let source = inputs[index].tracks[plans[index].ladderTrack!]
            guard let width = source.width, let height = source.height, width > 0, height > 0 else {
                throw TranscodeError(.undecodable, "video stream \(source.index) has no picture size", file: inputs[index].url)
            }
            let ladder = transcode.ladder ?? (ladderInputs.count == 1
                ? Ladder.defaultLadder(sourceWidth: width, sourceHeight: height)
                : Ladder(rungs: [Ladder.Rung(height: height, bitRate: Self.bitRate(of: source, in: inputs[index]))]))
            var (rungs, skipped) = ladder.resolved(sourceWidth: width, sourceHeight: height,
                                                   sampleAspectRatio: source.sampleAspectRatio)
            for line in skipped { tell("ladder: skipping \(line)") }
            if let codec = transcode.encoder.codec { for i in rungs.indices { rungs[i].codec = codec } }
            tell("ladder for \(inputs[index].url): " + rungs.map { "\($0.width)x\($0.height) \($0.codec) \($0.bitRate / 1000)k" }.joined(separator: ", "))
            for codec in Set(rungs.map(\.codec)).sorted() where selections[codec] == nil {
                let selection = try EncoderSelection<HardwareDevice>(choice: transcode.encoder, codec: codec) { family, name throws(TranscodeError) in
                    try EncoderProbe.open(family: family, encoderName: name)
                }
                for line in selection.log { tell("encoder: \(line)") }
                selections[codec] = selection
            }
            rungsByInput[index] = rungs
        }
        var decodeDevice: HardwareDevice?
        if !ladderInputs.isEmpty {
            let selection = try hardwareSelection()
            decodeDevice = selection.device
            for line in selection.log { tell("decoding: \(line)") }
        }

        // Splices are cut exactly: the re-encoded video has keyframes there.
        let splicePoints = try PackagingJob.splicePoints(options: options)
        var sources: [any PacketSource] = []
        var transcoders: [TranscodingSource] = []
        var selection = StreamSelection(selectors: options.selection.selectors == nil ? nil : [], overrides: [:])
        for (index, input) in inputs.enumerated() {
            guard plans[index].transcodes else {
                sources.append(input)
                for selector in options.selection.selectors ?? [] {
                    if case .stream(let i, _) = selector, i != index { continue }
                    if case .type(let i?, _) = selector, i != index { continue }
                    selection.selectors?.append(selector)
                }
                for (key, value) in options.selection.overrides where key.hasPrefix("\(index):") { selection.overrides[key] = value }
                continue
            }
            let rungs = rungsByInput[index] ?? []
            // Rungs of one ladder share one codec family; a ladder mixing codecs uses the first's.
            let encoder = rungs.first.flatMap { selections[$0.codec] }
            let source = try TranscodingSource(input: input, plan: plans[index], rungs: rungs,
                                               family: encoder?.family ?? .software, device: encoder?.device,
                                               decodeDevice: decodeDevice, segmentDuration: options.segmentDuration,
                                               splicePoints: splicePoints,
                                               threadsPerEncoder: transcode.threadsPerEncoder, logger: logger)
            sources.append(source)
            transcoders.append(source)
            // The source already left unselected streams out: select all it produces, and move
            // per-stream overrides to the streams' new numbers (not to the ladder's rungs).
            for track in source.tracks { selection.selectors?.append(.stream(input: index, index: track.index)) }
            var output = 0
            for track in input.tracks {
                guard let treatment = plans[index].treatments[track.index] else { continue }
                switch treatment {
                case .drop: continue
                case .transcode where track.mediaType == .video: output += rungs.count
                default:
                    if let override = options.selection.overrides["\(index):\(track.index)"] {
                        selection.overrides["\(index):\(output)"] = override
                    }
                    output += 1
                }
            }
        }
        let job = makeJob(sources: sources, selection: selection)
        var summary = try job.run()
        summary.transcoding = PackageSummary.Transcoding(decisions: decisions, rungs: transcoders.flatMap(\.rungReports),
                                                         skippedPackets: transcoders.reduce(0) { $0 + $1.skippedPackets },
                                                         streamCopyPasses: streamCopyPasses)
        return summary
    }

    private func hardwareSelection() throws -> HardwareSelection<HardwareDevice> {
        do throws(MediaError) {
            return try HardwareSelection(preference: transcode.hwaccel) { (kind, node) throws(MediaError) in
                do throws(TranscodeError) { return try EncoderProbe.openDevice(kind) } catch {
                    throw MediaError(.hardwareUnavailable, error.message, libraryMessage: error.reason.isEmpty ? nil : error.reason)
                }
            }
        } catch {
            throw TranscodeError(.encoderUnavailable, "--hwaccel: \(error.summary)", reason: error.cause)
        }
    }

    /// The bitrate to re-encode a rendition at when it keeps its size: its own, within bounds.
    static func bitRate(of track: TrackInfo, in input: MediaInput) -> Int {
        let own = track.bitRate ?? input.container.bitRate
        if let own { return min(max(own, 100_000), 50_000_000) }
        return Ladder.defaultLadder(sourceWidth: track.width ?? 640, sourceHeight: track.height ?? 360).rungs.first?.bitRate ?? 1_000_000
    }
}

/// `--transcode`, `--ladder`, `--encoder`, `--hwaccel`.
public struct TranscodeOptions: Sendable {
    public var mode: TranscodePlan.Mode
    /// The ladder asked for; `nil` for the default one derived from the source.
    public var ladder: Ladder?
    public var encoder: EncoderChoice
    /// Where video is decoded.
    public var hwaccel: HardwarePreference
    /// Threads per video encoder (0: the encoder's choice).
    public var threadsPerEncoder: Int

    public init(mode: TranscodePlan.Mode = .auto, ladder: Ladder? = nil, encoder: EncoderChoice = .auto,
                hwaccel: HardwarePreference = .auto(), threadsPerEncoder: Int = 0) {
        self.mode = mode
        self.ladder = ladder
        self.encoder = encoder
        self.hwaccel = hwaccel
        self.threadsPerEncoder = threadsPerEncoder
    }
}
