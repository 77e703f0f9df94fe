import KerfCore
import KerfManifest

/// What a stream-copy pass would find about keyframes, forecast before reading from the inputs'
/// keyframe indexes: renditions whose segments would not start at the same instants, and
/// segments far longer than the target.
///
/// The rules are `PackagingJob`'s, applied to index times instead of packets: each input's
/// timeline starts at its first video track's first keyframe, a `Segmenter` cuts every indexed
/// video track at its keyframes, the renditions' cuts are compared with the reference's, and a
/// segment longer than twice the target is too long. A problem is forecast only when it is clear
/// by more than one frame duration: index times are decode times (see `KeyframeIndex`), and an
/// index may flag keyframes that do not start a closed GOP. Anything closer, and every video
/// track without an index, is left to the stream-copy pass, which sees the packets.
public struct StreamCopyForecast: Sendable {
    /// One input as opened: its tracks and the keyframe index of each video track that has one.
    public struct Input: Sendable {
        public var path: String
        public var tracks: [TrackInfo]
        /// By track index; video tracks without an index are absent.
        public var keyframes: [Int: KeyframeIndex]

        public init(path: String, tracks: [TrackInfo], keyframes: [Int: KeyframeIndex]) {
            self.path = path
            self.tracks = tracks
            self.keyframes = keyframes
        }
    }

    /// The problem a stream-copy pass would stop at, as the `.needsTranscoding` error it would
    /// throw (same message, the reason saying it comes from the indexes); `nil` when none is
    /// forecast.
    public private(set) var problem: PackagerError?
    /// True when every selected video track had an index, so the forecast saw all keyframes.
    public private(set) var coversEveryVideoTrack: Bool

    /// - Parameters:
    ///   - inputs: the inputs in `PackageOptions.inputs` order.
    ///   - selection: `--streams` and `--set`, as the packaging job will apply them.
    ///   - segmentDuration: the target segment duration.
    public init(inputs: [Input], selection: StreamSelection = StreamSelection(), segmentDuration: MediaTime) {
        problem = nil
        coversEveryVideoTrack = false
        // A selection naming missing streams is the packaging job's error to report.
        guard segmentDuration.value > 0,
              let plans = try? PlannedTrack.plan(inputs: inputs.map { ($0.path, $0.tracks) }, selection: selection) else { return }
        let videos = plans.filter { $0.kind == .video }
        var timed: [(plan: PlannedTrack, keyframes: [MediaTime])] = []
        for video in videos {
            // An input's timeline starts at its first video track's first keyframe; keyframes of
            // its other video tracks before that instant are dropped, as when reading.
            let anchor = videos.first { $0.input == video.input } ?? video
            guard let origin = inputs[anchor.input].keyframes[anchor.info.index]?.keyframeTimes.first,
                  let index = inputs[video.input].keyframes[video.info.index] else { continue }
            let times = index.keyframeTimes.map { $0 - origin }.filter { $0 >= .zero(timescale: 1) }
            if !times.isEmpty { timed.append((video, times)) }
        }
        coversEveryVideoTrack = timed.count == videos.count
        guard !timed.isEmpty else { return }

        var segmenter = Segmenter(target: segmentDuration, tracks: Dictionary(uniqueKeysWithValues: timed.map {
            ($0.plan.number, Segmenter.TrackConfiguration(kind: .video, frameDuration: $0.plan.frameDuration))
        }))
        for (plan, times) in timed {
            for time in times {
                _ = segmenter.push(SampleTiming(track: plan.number, pts: time, dts: time, duration: .zero(timescale: time.timescale),
                                                isKeyframe: true, size: 0))
            }
        }
        let reference = timed[0].plan
        let referenceCuts = segmenter.cuts(track: reference.number)
        for (plan, _) in timed.dropFirst() {
            let cuts = segmenter.cuts(track: plan.number)
            let tolerance = max(plan.frameDuration, reference.frameDuration)
            let common = min(cuts.count, referenceCuts.count)
            let boundary = (0..<common).first { Self.distance(cuts[$0], referenceCuts[$0]) > tolerance }
                ?? (cuts.count == referenceCuts.count ? nil : common)
            guard let boundary else { continue }
            let at = boundary < cuts.count ? "\(hlsDecimal(cuts[boundary])) s" : "no cut"
            let expected = boundary < referenceCuts.count ? "\(hlsDecimal(referenceCuts[boundary])) s" : "no cut"
            problem = PackagerError(.needsTranscoding, "renditions are not keyframe-aligned",
                                    reason: "by the keyframe indexes, \(plan.inputPath) cuts segment \(boundary + 2) at \(at) where \(reference.inputPath) cuts at \(expected)",
                                    file: plan.inputPath)
            return
        }
        let limit = segmentDuration + segmentDuration
        for (plan, _) in timed {
            let cuts = [MediaTime.zero(timescale: 1)] + segmenter.cuts(track: plan.number)
            if let longest = zip(cuts, cuts.dropFirst()).map({ $1 - $0 }).max(), longest > limit + plan.frameDuration {
                problem = PackagerError(.needsTranscoding, "GOP far longer than the segment duration",
                                        reason: "by the keyframe index, a segment lasts \(hlsDecimal(longest)) s for a \(hlsDecimal(segmentDuration)) s target",
                                        file: plan.inputPath)
                return
            }
        }
    }

    private static func distance(_ a: MediaTime, _ b: MediaTime) -> MediaTime {
        a < b ? b - a : a - b
    }
}
