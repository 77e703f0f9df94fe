import KerfCore
import KerfPackager

/// Copy or re-encode, decided from what opening the inputs tells, before any packet is read.
///
/// Stream metadata and options settle the usual cases through `TranscodePlan`: codecs HLS/DASH
/// cannot carry, interlaced video, a `--ladder`, `--transcode always`. Under `--transcode auto`,
/// where containers index their keyframes (MP4), `StreamCopyForecast` settles GOPs far longer
/// than the target and renditions whose keyframes are misaligned. What neither can see (inputs
/// without an index, such as MPEG-TS; problems within a frame of the rule) is left to a
/// stream-copy pass: when reading finds it, `reencodingVideo(because:)` gives the decision for
/// the second pass.
public struct TranscodeDecision: Sendable {
    /// What the decision rests on.
    public enum Basis: Sendable, Equatable {
        /// Nothing rules stream copy out before reading: a stream-copy pass is made.
        case streamCopy
        /// Stream metadata or options: codecs, interlacing, `--ladder`, `--transcode always`.
        case metadata
        /// The keyframe indexes show misaligned renditions or GOPs far over the target.
        case keyframeIndex
        /// A stream-copy pass stopped at a problem found while reading.
        case streamCopyPass
    }

    public private(set) var basis: Basis
    /// What happens to the streams of each input, in input order.
    public private(set) var plans: [TranscodePlan]
    /// The problem the keyframe indexes show (`basis == .keyframeIndex`), as the error a
    /// stream-copy pass would have stopped at.
    public private(set) var keyframeProblem: PackagerError?
    /// True when every selected video track's keyframes were known from an index before reading
    /// (under `--transcode auto` with everything else copyable; `false` otherwise).
    public private(set) var keyframesKnown: Bool

    private let tracks: [[TrackInfo]]
    private let mode: TranscodePlan.Mode
    private let ladderRequested: Bool
    private let cmaf: Bool

    /// - Parameters:
    ///   - inputs: every input as opened, with the keyframe indexes its container offers.
    ///   - ladderRequested: `--ladder` was given.
    ///   - cmaf: CMAF output is written (HLS fMP4 or DASH).
    ///   - selection: the streams to package (`--streams`, `--set`).
    ///   - segmentDuration: the target segment duration.
    public init(inputs: [StreamCopyForecast.Input], mode: TranscodePlan.Mode, ladderRequested: Bool, cmaf: Bool,
                selection: StreamSelection = StreamSelection(), segmentDuration: MediaTime) {
        tracks = inputs.enumerated().map { index, input in
            input.tracks.filter { selection.selects(input: index, track: $0) }
        }
        self.mode = mode
        self.ladderRequested = ladderRequested
        self.cmaf = cmaf
        keyframeProblem = nil
        keyframesKnown = false
        plans = []
        basis = .streamCopy
        plans = makePlans(videoReason: nil)
        if plans.contains(where: \.transcodes) {
            basis = .metadata
            return
        }
        // Under --transcode never the stream-copy pass itself reports what it cannot do.
        guard mode == .auto else { return }
        let forecast = StreamCopyForecast(inputs: inputs, selection: selection, segmentDuration: segmentDuration)
        keyframesKnown = forecast.coversEveryVideoTrack
        if let problem = forecast.problem {
            keyframeProblem = problem
            plans = makePlans(videoReason: problem.message)
            basis = .keyframeIndex
        }
    }

    /// The decision after a stream-copy pass stopped at `problem`, found while reading: the video
    /// of every input is re-encoded, `problem.message` given as the reason.
    public func reencodingVideo(because problem: PackagerError) -> TranscodeDecision {
        var decision = self
        decision.plans = makePlans(videoReason: problem.message)
        decision.basis = .streamCopyPass
        return decision
    }

    private func makePlans(videoReason: String?) -> [TranscodePlan] {
        tracks.map { selected in
            TranscodePlan(tracks: selected, mode: mode, ladderRequested: ladderRequested, cmaf: cmaf, videoReason: videoReason)
        }
    }
}
