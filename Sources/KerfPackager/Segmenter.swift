import KerfCore

/// Decides segment boundaries: a value-type state machine fed sample timings in decode order
/// (interleaved across tracks) that returns what the owner must do with each sample.
///
/// Rules (identical for every rendition, so aligned GOPs give identical boundaries):
/// - Video cuts only at keyframes: a segment ends at the first keyframe at or after the next
///   multiple of the target duration, measured from the presentation start.
/// - The reference track (first video, else first audio) defines the boundaries; other video
///   tracks cut by the same rule and must land on the same instants, else `finish()` reports
///   them as misaligned.
/// - Splice points (SCTE-35 outs and ins, cue lists) also end a segment: video cuts at the first
///   keyframe at or after each (half a frame early counts as at), whether or not it is a
///   multiple of the target; the grid of multiples goes on from there.
/// - Audio and text are cut at the reference's instants, on their own frame boundaries: a
///   frame starts the new segment when it starts at or after the boundary minus half a frame.
///   They are held back until the reference has progressed far enough to know.
public struct Segmenter: Sendable {
    public enum Kind: String, Sendable, Codable { case video, audio, text }

    public struct TrackConfiguration: Sendable {
        public var kind: Kind
        /// Typical frame duration; half of it is the tolerance for audio/text cuts.
        public var frameDuration: MediaTime
        public init(kind: Kind, frameDuration: MediaTime) {
            self.kind = kind
            self.frameDuration = frameDuration
        }
    }

    public enum Action: Sendable, Equatable {
        /// Append the sample to segment `segment` of its track.
        case append(SampleTiming, segment: Int)
        /// Segment `segment` of `track` has all its samples.
        case complete(track: Int, segment: Int)
    }

    /// Rendition boundaries that differ from the reference's.
    public struct Misalignment: Sendable, Equatable {
        public var track: Int
        public var reference: Int
        /// Index of the first differing boundary and the two instants (nil: one has fewer cuts).
        public var boundary: Int
        public var trackTime: MediaTime?
        public var referenceTime: MediaTime?
    }

    struct TrackState: Sendable {
        var configuration: TrackConfiguration
        var segment = 0
        var started = false
        /// Boundaries this track cut at (video), excluding 0.
        var cuts: [MediaTime] = []
        /// The first sample's presentation time.
        var firstPTS: MediaTime?
        var pending: [SampleTiming] = []
        var pendingStart = 0
        var droppedLeading = 0
    }

    public let target: MediaTime
    /// Boundaries on an absolute timeline (live redundancy): the first segment, which starts
    /// wherever the input was joined, ends at the first multiple of the target after its start
    /// like every other, so origins that joined at different points cut at the same keyframes.
    public var absoluteBoundaries = false
    public let reference: Int
    private var tracks: [Int: TrackState]
    /// Boundaries decided by the reference track, excluding 0 and the first
    /// `discardedBoundaries` (see `discardHistory()`).
    public private(set) var boundaries: [MediaTime] = []
    /// Boundaries dropped from the front of `boundaries` by `discardHistory()`.
    public private(set) var discardedBoundaries = 0
    /// Times at which a segment must start (or, without a keyframe there, the first keyframe
    /// after), sorted.
    public private(set) var splicePoints: [MediaTime] = []
    /// Largest decode time seen on the reference: every later reference cut is after it.
    private var frontier: MediaTime?
    private var referenceEnded = false

    /// - Parameters:
    ///   - target: the target segment duration.
    ///   - tracks: configuration per track number.
    public init(target: MediaTime, tracks: [Int: TrackConfiguration]) {
        precondition(target.value > 0, "segment duration must be positive")
        self.target = target
        self.tracks = tracks.mapValues { TrackState(configuration: $0) }
        let ordered = tracks.keys.sorted()
        reference = ordered.first { tracks[$0]?.kind == .video }
            ?? ordered.first { tracks[$0]?.kind == .audio }
            ?? ordered.first ?? 0
    }

    /// Adds a time at which a segment must start. Points at or before the last cut of a track
    /// no longer cut it (a live channel that learns of a splice late cuts at its next keyframe).
    public mutating func addSplicePoint(_ time: MediaTime) {
        guard !splicePoints.contains(time) else { return }
        let index = splicePoints.firstIndex { $0 > time } ?? splicePoints.endIndex
        splicePoints.insert(time, at: index)
    }

    /// Forgets a splice point not cut at yet.
    public mutating func removeSplicePoint(_ time: MediaTime) {
        splicePoints.removeAll { $0 == time }
    }

    /// A track's typical frame duration.
    public func frameDuration(track: Int) -> MediaTime? { tracks[track]?.configuration.frameDuration }

    /// Leading samples dropped because a video track did not start with a keyframe.
    public func droppedLeadingSamples(track: Int) -> Int { tracks[track]?.droppedLeading ?? 0 }

    /// The boundaries a track cut at (video tracks), excluding 0.
    public func cuts(track: Int) -> [MediaTime] { tracks[track]?.cuts ?? [] }

    /// The first multiple of the target strictly after `time`.
    func nextMultiple(after time: MediaTime?) -> MediaTime {
        guard let time else { return target }
        let scale = MediaTime.commonTimescale(time.timescale, target.timescale)
        let t = time.rescaled(to: scale, rounding: .down).value, step = target.rescaled(to: scale).value
        return MediaTime(value: (t / step + 1) * step, timescale: scale)
    }

    /// Feeds one sample. Samples of one track must arrive in decode order.
    public mutating func push(_ sample: SampleTiming) -> [Action] {
        guard var state = tracks[sample.track] else { return [] }
        var actions: [Action] = []
        if sample.track == reference || state.configuration.kind == .video {
            cutVideoLike(sample, &state, &actions)
            tracks[sample.track] = state
            if sample.track == reference {
                frontier = max(frontier ?? sample.dts, sample.dts)
                releaseAll(&actions)
            }
        } else {
            state.pending.append(sample)
            tracks[sample.track] = state
            release(sample.track, &actions)
        }
        return actions
    }

    /// The reference track has no more samples (its input ended). Held samples are released at
    /// once, and later audio/text is cut at the following multiples of the target, on its own
    /// frame boundaries, so it is neither held nor gathered into one long segment.
    public mutating func endReference() -> [Action] {
        guard !referenceEnded else { return [] }
        referenceEnded = true
        var actions: [Action] = []
        releaseAll(&actions)
        return actions
    }

    /// Ends the input: releases held samples and completes every track's last segment.
    /// - Returns: the actions, and the misaligned video renditions (empty when aligned).
    public mutating func finish() -> (actions: [Action], misalignments: [Misalignment]) {
        referenceEnded = true
        var actions: [Action] = []
        releaseAll(&actions)
        for track in tracks.keys.sorted() where tracks[track]!.started {
            actions.append(.complete(track: track, segment: tracks[track]!.segment))
        }
        var problems: [Misalignment] = []
        let referenceCuts = tracks[reference]?.cuts ?? []
        for track in tracks.keys.sorted() where track != reference && tracks[track]!.configuration.kind == .video {
            let cuts = tracks[track]!.cuts
            if cuts != referenceCuts {
                let common = min(cuts.count, referenceCuts.count)
                let index = (0..<common).first { cuts[$0] != referenceCuts[$0] } ?? common
                problems.append(Misalignment(track: track, reference: reference, boundary: index,
                                             trackTime: index < cuts.count ? cuts[index] : nil,
                                             referenceTime: index < referenceCuts.count ? referenceCuts[index] : nil))
            }
        }
        return (actions, problems)
    }

    private mutating func cutVideoLike(_ sample: SampleTiming, _ state: inout TrackState, _ actions: inout [Action]) {
        let isVideo = state.configuration.kind == .video
        if !state.started {
            if isVideo && !sample.isKeyframe {
                state.droppedLeading += 1
                return
            }
            state.started = true
            state.firstPTS = sample.pts
        } else {
            let tolerance = isVideo ? MediaTime.zero(timescale: 1) : half(state.configuration.frameDuration)
            // A cut may land up to `tolerance` before its multiple; the next target is the
            // multiple after that one, not the same multiple again.
            let previous = state.cuts.last ?? (absoluteBoundaries ? state.firstPTS : nil)
            let next = nextMultiple(after: previous.map { $0 + tolerance })
            if (sample.isKeyframe || !isVideo) && (sample.pts >= next - tolerance || splicePending(after: previous, at: sample.pts, state)) {
                actions.append(.complete(track: sample.track, segment: state.segment))
                state.segment += 1
                state.cuts.append(sample.pts)
                if sample.track == reference { boundaries.append(sample.pts) }
            }
        }
        actions.append(.append(sample, segment: state.segment))
    }

    /// Whether a splice point lies after the last cut (`previous`; the start when none) and at
    /// or before `time` (half a frame early counts).
    private func splicePending(after previous: MediaTime?, at time: MediaTime, _ state: TrackState) -> Bool {
        guard !splicePoints.isEmpty else { return false }
        let slack = half(state.configuration.frameDuration)
        let after = (previous ?? state.firstPTS ?? .zero(timescale: 1)) + slack
        return splicePoints.contains { $0 > after && $0 <= time + slack }
    }

    private mutating func releaseAll(_ actions: inout [Action]) {
        for track in tracks.keys.sorted() where track != reference && tracks[track]!.configuration.kind != .video {
            release(track, &actions)
        }
    }

    /// Assigns held audio/text samples whose segment is now known.
    private mutating func release(_ track: Int, _ actions: inout [Action]) {
        guard var state = tracks[track] else { return }
        let tolerance = half(state.configuration.frameDuration)
        while state.pendingStart < state.pending.count {
            let sample = state.pending[state.pendingStart]
            if !referenceEnded {
                guard let frontier, frontier >= sample.pts + tolerance else { break }
            }
            if referenceEnded {
                // Past the reference's end: this track extends the boundaries itself.
                let next = nextMultiple(after: boundaries.last.map { $0 + tolerance })
                if sample.pts >= next - tolerance, (boundaries.last.map { sample.pts > $0 } ?? true) {
                    boundaries.append(sample.pts)
                }
            }
            var segment = state.segment
            while segment - discardedBoundaries < boundaries.count,
                  sample.pts >= boundaries[segment - discardedBoundaries] - tolerance { segment += 1 }
            if state.started && segment > state.segment {
                actions.append(.complete(track: track, segment: state.segment))
            }
            state.started = true
            state.segment = segment
            actions.append(.append(sample, segment: segment))
            state.pendingStart += 1
        }
        if state.pendingStart > 64 && state.pendingStart * 2 > state.pending.count {
            state.pending.removeFirst(state.pendingStart)
            state.pendingStart = 0
        }
        tracks[track] = state
    }

    /// Forgets boundaries and cuts no track needs any more, so a live segmenter fed for days
    /// keeps a bounded history. Misalignment reports (`finish()`) then cover only what is left.
    public mutating func discardHistory() {
        for track in tracks.keys where tracks[track]!.cuts.count > 1 {
            tracks[track]!.cuts.removeFirst(tracks[track]!.cuts.count - 1)
        }
        // Held audio/text samples are assigned from their track's current segment onwards.
        let oldestNeeded = tracks.filter { $0.key != reference && $0.value.configuration.kind != .video }
            .map(\.value.segment).min() ?? Int.max
        // Splice points already cut at (or passed) by the reference are spent.
        if let last = tracks[reference]?.cuts.last { splicePoints.removeAll { $0 <= last } }
        let removable = min(oldestNeeded - discardedBoundaries, boundaries.count - 1)
        if removable > 0 {
            boundaries.removeFirst(removable)
            discardedBoundaries += removable
        }
    }

    private func half(_ time: MediaTime) -> MediaTime {
        MediaTime(value: time.value, timescale: time.timescale * 2)
    }
}
