import KerfCore

/// The one manifest model of Kerf: what a presentation lists, built from `SegmentEvent`s, and
/// rendered into the multivariant playlist, media playlists, I-frame playlists and the MPD
/// (`Presentation+HLS`, `Presentation+DASH`). A package and a live channel feed it the same
/// events; they differ only in the `Listing` they render with (static or dynamic, the whole
/// presentation or a sliding window, parts) and in the segments a live window removes.
public struct Presentation: Sendable {
    /// One rendition and what it has published.
    public struct Track: Sendable {
        public var description: RenditionDescription
        /// Initialization segments by epoch.
        public var initializations: [Int: InitializationEntry] = [:]
        public var segments: [Segment] = []
        /// Partial segments of the last segments and of the one being written (live).
        public var parts: [PartEntry] = []
        /// The highest bit rate of any segment published so far (also of removed ones).
        public var peakBitRate = 0
        /// The sequence number of the next segment.
        public var nextSequence: UInt64 = 0
        /// Discontinuities removed from the front with their segments (EXT-X-DISCONTINUITY-SEQUENCE).
        public var discontinuitiesRemoved: UInt64 = 0
        /// Segments removed from the front, by epoch, as runs of equal durations (at most
        /// `earlierRunLimit` per epoch, the newest): what a SegmentTimeline from the Period start
        /// lists before the window.
        public var earlier: [Int: [SegmentRun]] = [:]

        public init(description: RenditionDescription) {
            self.description = description
        }

        public var id: String { description.id }
        public var kind: RenditionDescription.Kind { description.kind }
        /// BANDWIDTH / @bandwidth: the declared rate, else the measured peak.
        public var bandwidth: Int { description.declaredBandwidth ?? peakBitRate }
        /// The end of the last segment.
        public var end: MediaTime? { segments.last.map { $0.start + $0.duration } }
    }

    /// `count` consecutive segments of one duration from `start`.
    public struct SegmentRun: Sendable, Hashable, Codable {
        public var start: MediaTime
        public var duration: MediaTime
        public var count: Int

        public init(start: MediaTime, duration: MediaTime, count: Int = 1) {
            self.start = start
            self.duration = duration
            self.count = count
        }

        /// The end of the last segment.
        public var end: MediaTime { start + MediaTime(value: duration.value * Int64(count), timescale: duration.timescale) }
    }

    /// Runs kept per epoch in `Track.earlier`: a source whose segments all differ in duration
    /// adds one per segment, and the MPD lists them all.
    public static let earlierRunLimit = 1000

    /// A segment as listed: the writer's entry, the epoch it belongs to, and whether it starts
    /// one after another epoch (EXT-X-DISCONTINUITY).
    public struct Segment: Sendable, Hashable {
        public var entry: SegmentEntry
        public var epoch: Int
        public var discontinuity: Bool

        public var uri: String { entry.uri }
        public var sequence: UInt64 { entry.sequence }
        public var start: MediaTime { entry.start }
        public var duration: MediaTime { entry.duration }
        public var size: Int { entry.size }
    }

    /// A stretch of continuous media: one DASH Period, HLS discontinuities between them.
    public struct Epoch: Sendable, Hashable, Codable {
        public var id: Int
        public var start: MediaTime
        /// Its renditions, in publication order.
        public var renditions: [String]

        public init(id: Int, start: MediaTime, renditions: [String]) {
            self.id = id
            self.start = start
            self.renditions = renditions
        }
    }

    /// Renditions in the order they were first announced.
    public private(set) var order: [String] = []
    public var tracks: [String: Track] = [:]
    public var epochs: [Epoch] = []
    /// Ad breaks and other SCTE-35 signals, by start time.
    public var markers: [SpliceMarker] = []
    /// The latest start or end of the markers a live window has forgotten: with Periods split
    /// at markers, the Period of the segments after it still starts there.
    public var forgottenSplit: MediaTime?

    public init() {}

    /// Takes one event in.
    public mutating func apply(_ event: SegmentEvent) {
        switch event {
        case .started(let description):
            if tracks[description.id] == nil {
                order.append(description.id)
                tracks[description.id] = Track(description: description)
            } else {
                tracks[description.id]!.description = description
            }
        case .epochStarted(let id, let start, let renditions):
            guard !epochs.contains(where: { $0.id == id }) else { return }
            epochs.append(Epoch(id: id, start: start, renditions: renditions))
        case .initialization(let rendition, let epoch, let entry):
            tracks[rendition]?.initializations[epoch] = entry
        case .segmentCompleted(let rendition, let entry):
            let epoch = epochs.last?.id ?? 0
            let previous = tracks[rendition]?.segments.last?.epoch
            append(entry, to: rendition, epoch: epoch, discontinuity: previous != nil && previous != epoch)
        case .partCompleted(let rendition, let entry):
            tracks[rendition]?.parts.append(entry)
        case .splice(let marker):
            markers.removeAll { $0.id == marker.id }
            markers.append(marker)
            markers.sort { $0.start < $1.start }
        }
    }

    /// Lists a segment as part of `epoch`, starting a discontinuity or not (a live window
    /// restoring its journal says which; events take the current epoch).
    public mutating func append(_ entry: SegmentEntry, to rendition: String, epoch: Int, discontinuity: Bool) {
        guard var track = tracks[rendition] else { return }
        track.segments.append(Segment(entry: entry, epoch: epoch, discontinuity: discontinuity))
        track.peakBitRate = max(track.peakBitRate, entry.bitRate)
        track.nextSequence = entry.sequence + 1
        tracks[rendition] = track
    }

    /// The renditions of `kind`, in order, that list something (a text rendition always does).
    public func renditions(_ kind: RenditionDescription.Kind) -> [Track] {
        order.compactMap { tracks[$0] }.filter { $0.kind == kind && ($0.kind == .text || !$0.segments.isEmpty) }
    }

    /// The epoch being published (the last), if any.
    public var currentEpoch: Epoch? { epochs.last }

    /// Renditions of the current epoch that received media (they have its initialization
    /// segment, or a segment in it).
    public var activeRenditions: [String] {
        guard let current = epochs.last else { return order }
        return current.renditions.filter { id in
            guard let track = tracks[id] else { return false }
            return track.initializations[current.id] != nil || track.segments.last?.epoch == current.id
        }
    }
}

extension Presentation {
    /// Removes the segments of `rendition` that end before `time`, counting the
    /// discontinuities that leave with them. Initialization segments of epochs no segment of
    /// the rendition uses any more go too, but the current epoch's.
    /// - Returns: the URIs of the segments removed, and the epochs whose initialization
    ///   segment was removed.
    public mutating func removeSegments(of rendition: String, endingBefore time: MediaTime) -> (segments: [String], initializations: [Int]) {
        guard var track = tracks[rendition] else { return ([], []) }
        let drop = track.segments.prefix { $0.start + $0.duration < time }.count
        guard drop > 0 else { return ([], []) }
        let removed = track.segments.prefix(drop).map(\.uri)
        // MPEG-TS variants are not in the MPD: nothing to remember for them.
        for segment in track.segments.prefix(drop) where track.kind != .muxed {
            var runs = track.earlier[segment.epoch] ?? []
            if let last = runs.last, last.duration == segment.duration, last.end == segment.start {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(SegmentRun(start: segment.start, duration: segment.duration))
                // Over the limit, the second run goes: the timeline keeps its start at the
                // Period's (what GStreamer needs) and takes an explicit @t after the first run.
                if runs.count > Self.earlierRunLimit { runs.remove(at: 1) }
            }
            track.earlier[segment.epoch] = runs
        }
        track.discontinuitiesRemoved += UInt64(track.segments.prefix(drop).filter(\.discontinuity).count)
        track.segments.removeFirst(drop)
        let used = Set(track.segments.map(\.epoch))
        var epochs: [Int] = []
        for epoch in track.initializations.keys.sorted() where !used.contains(epoch) && epoch != self.epochs.last?.id {
            track.initializations[epoch] = nil
            track.earlier[epoch] = nil
            epochs.append(epoch)
        }
        tracks[rendition] = track
        return (removed, epochs)
    }

    /// Drops the partial segments of `rendition` whose segment starts before `start`.
    public mutating func removeParts(of rendition: String, before start: MediaTime) {
        guard let first = tracks[rendition]?.parts.first, first.segmentStart < start else { return }
        tracks[rendition]?.parts.removeAll { $0.segmentStart < start }
    }

    /// Forgets epochs no segment refers to any more (but the current one).
    public mutating func removeUnusedEpochs() {
        let used = Set(tracks.values.flatMap { $0.segments.map(\.epoch) })
        let current = epochs.last?.id
        epochs.removeAll { !used.contains($0.id) && $0.id != current }
        let kept = Set(epochs.map(\.id))
        for id in Array(tracks.keys) {
            guard var track = tracks[id], track.earlier.keys.contains(where: { !kept.contains($0) }) else { continue }
            track.earlier = track.earlier.filter { kept.contains($0.key) }
            tracks[id] = track
        }
    }
}
