import KerfCore
import KerfPackager
import NIOCore

/// What one live channel publishes: its epochs (stretches of continuous input), the init
/// segments and the sliding window of media segments of every rendition, and the playlists and
/// MPD rendered from them at each publication.
///
/// Times are on the channel timeline, which is Unix time: each epoch is placed at the
/// wall-clock instant its first keyframe arrived, so the timeline keeps increasing across
/// reconnects and restarts, segments and init segments are named by their start time
/// (`seg_<t>.m4s`, `init_<epoch start in ms>.mp4`: a restarted origin never reuses a name for
/// other bytes) and DASH availability (availabilityStartTime 1970-01-01) follows the wall clock.
package struct LiveWindow: Sendable {
    package struct Epoch: Sendable {
        /// The start in Unix milliseconds: unique across restarts.
        var id: Int
        /// Channel time of the epoch's start, in milliseconds.
        var start: MediaTime
        /// Rendition folders of the epoch, in track order.
        var folders: [String]
        /// MPEG-TS variant folders of the epoch, with their lead rendition's folder.
        var transportFolders: [TransportFolder] = []
    }

    package struct TransportFolder: Sendable, Codable, Equatable {
        var folder: String
        var lead: String
    }

    package struct StoredSegment: Sendable {
        var sequence: UInt64
        var epoch: Int
        /// Start and duration on the channel timeline, in the rendition's timescale.
        var start: Int64
        var duration: Int64
        /// The bytes, or nil when they are only in the archive (older than its memory horizon).
        package var body: ByteBuffer?
        var size: Int
        package var etag: String
        /// The first segment of an epoch that follows another.
        var discontinuity: Bool
        /// Kept in memory past the memory horizon: its archive write failed.
        var pinned = false
    }

    package struct Rendition: Sendable {
        package var track: LivePackager.Track
        var timescale: Int64
        /// Init segments by epoch.
        package var inits: [Int: (body: ByteBuffer, etag: String)] = [:]
        var segments: [StoredSegment] = []
        package var nextSequence: UInt64 = 0
        /// EXT-X-DISCONTINUITY-SEQUENCE: discontinuities evicted from the front.
        var discontinuitiesRemoved: UInt64 = 0
        var lastEpoch: Int?
        var peakBitRate = 0
        /// An MPEG-TS variant: `track` is its lead (video) track, `muxed` every track in it;
        /// segments are `seg_<t>.ts`, without init segments.
        var muxed: [LivePackager.Track]?
        package var isTransportStream: Bool { muxed != nil }
        /// Partial segments (LL-HLS) of the last few segments and of the one being written.
        package var parts: [StoredPart] = []


        func end(of segment: StoredSegment) -> Double { Double(segment.start + segment.duration) / Double(timescale) }

        /// The segment's name in URLs and in the archive.
        func fileName(_ segment: StoredSegment) -> String { "seg_\(segment.start).\(isTransportStream ? "ts" : "m4s")" }
    }

    /// One partial segment: `part_<segment start>_<index>.m4s`.
    package struct StoredPart: Sendable {
        var epoch: Int
        package var segmentStart: Int64
        package var index: Int
        var duration: Int64
        var independent: Bool
        package var body: ByteBuffer
        package var etag: String

        var fileName: String { "part_\(segmentStart)_\(index).m4s" }
    }

    /// A rendered playlist or MPD.
    package struct Document: Sendable {
        package var body: ByteBuffer
        package var etag: String
    }

    let name: String
    /// What the channel publishes (`formats:`).
    let formats: Set<ChannelConfiguration.Format>
    let segmentDuration: MediaTime
    /// Seconds of media listed in playlists (and DASH timeShiftBufferDepth).
    let window: Double
    /// Wall-clock seconds (since 1970) of channel time 0: the Unix epoch.
    static let availabilityStart = 0.0
    var epochs: [Epoch] = []
    package var renditions: [String: Rendition] = [:]
    /// Rendered documents by path below the channel ("master.m3u8", "video_720p/playlist.m3u8").
    package private(set) var documents: [String: Document] = [:]
    /// The MPD split around its UTCTiming URL, which names the host each request came to, and
    /// the ETag of the two parts (a response's adds the URL's).
    package private(set) var mpd: (head: String, tail: String, etag: String)?
    /// EXT-X-TARGETDURATION: the configured duration rounded up, raised if a longer segment comes.
    package var targetDuration: Int
    /// Wall-clock seconds of the last publication (MPD@publishTime).
    package private(set) var lastPublication: Double?
    /// With an archive: seconds of segments (back from the live edge) whose bytes stay in
    /// memory; older ones are read from the archive. Nil: everything stays in memory.
    let memoryHorizon: Double?
    /// Low-latency HLS: the partial segment target (nil: whole segments only).
    let partTarget: MediaTime?
    /// Media timeline (redundant origins): sequence numbers from segment times, init segments
    /// named by content.
    let mediaTimeline: Bool

    init(name: String, segmentDuration: MediaTime, window: Double, formats: Set<ChannelConfiguration.Format> = [.hls, .dash],
         memoryHorizon: Double? = nil, partTarget: MediaTime? = nil, mediaTimeline: Bool = false) {
        self.name = name
        self.formats = formats
        self.mediaTimeline = mediaTimeline
        self.memoryHorizon = memoryHorizon
        self.partTarget = partTarget
        self.segmentDuration = segmentDuration
        self.window = window
        targetDuration = max(1, Int(segmentDuration.seconds.rounded(.up)))
    }

    /// The channel end: the latest segment end over all renditions, in seconds.
    var liveEdge: Double {
        renditions.values.compactMap { r in r.segments.last.map(r.end) }.max() ?? 0
    }

    /// The channel time at which an epoch starting at wall-clock `now` goes: the time elapsed
    /// since channel time 0, never before what is already published.
    func nextEpochStart(now: Double) -> MediaTime {
        let start = MediaTime(value: Int64((now * 1000).rounded(.up)), timescale: 1000)
        let edge = MediaTime(value: Int64((liveEdge * 1000).rounded(.up)), timescale: 1000)
        return max(start, edge)
    }

    /// Registers an epoch whose first keyframe went to channel time `start` at wall-clock `now`.
    mutating func beginEpoch(tracks: [LivePackager.Track], transportVariants: [LivePackager.TransportVariant] = [],
                             start: MediaTime, now: Double) -> Epoch {
        let epoch = Epoch(id: Int(start.value), start: start, folders: tracks.map(\.folder),
                          transportFolders: transportVariants.map { TransportFolder(folder: $0.folder, lead: tracks[$0.lead].folder) })
        epochs.append(epoch)
        // Media sequence numbers go on increasing across restarts: a new rendition starts
        // from the number of whole target durations since 1970.
        let sequence = UInt64(max(0, now / segmentDuration.seconds))
        for track in tracks {
            renditions[track.folder, default: Rendition(track: track, timescale: 1, nextSequence: sequence)].track = track
        }
        for variant in transportVariants {
            var rendition = renditions[variant.folder, default: Rendition(track: tracks[variant.lead], timescale: 1, nextSequence: sequence)]
            rendition.track = tracks[variant.lead]
            rendition.muxed = variant.members.map { tracks[$0] }
            renditions[variant.folder] = rendition
        }
        return epoch
    }

    mutating func addInit(folder: String, epoch: Int, bytes: [UInt8], timescale: Int64) {
        renditions[folder]?.inits[epoch] = (ByteBuffer(bytes: bytes), Self.etag(bytes))
        renditions[folder]?.timescale = timescale
    }

    /// Adds a completed segment, slides the window and re-renders the documents.
    /// - Parameters:
    ///   - body, etag: the segment's bytes and `etag(_:)`, made before taking the window's lock.
    /// - Returns: the files that left the window (segments and init segments), for the archive.
    @discardableResult
    mutating func addSegment(folder: String, epoch: Int, segment: LivePackager.Segment, body: ByteBuffer, etag: String,
                             now: Double) -> [(folder: String, name: String)] {
        guard var rendition = renditions[folder], segment.duration > 0 else { return [] }
        var sequence = rendition.nextSequence
        if mediaTimeline {
            // The number of whole target durations before the segment's start: each segment
            // starts in its own target-long slot, so every origin numbers it alike.
            let derived = UInt64(max(0, (Double(segment.start) / Double(segment.timescale) / segmentDuration.seconds).rounded(.down)))
            sequence = rendition.lastEpoch == nil ? derived : max(sequence, derived)
        }
        let stored = StoredSegment(sequence: sequence, epoch: epoch, start: segment.start,
                                   duration: segment.duration, body: body, size: body.readableBytes, etag: etag,
                                   discontinuity: rendition.lastEpoch != nil && rendition.lastEpoch != epoch)
        rendition.timescale = rendition.isTransportStream ? segment.timescale : rendition.timescale
        append(stored, to: &rendition)
        renditions[folder] = rendition
        let removed = evict()
        offload()
        render(now: now)
        return removed
    }

    /// Adds a partial segment of the segment being written and re-renders the playlists.
    mutating func addPart(folder: String, epoch: Int, part: PartRecord, body: ByteBuffer, etag: String, now: Double) {
        guard var rendition = renditions[folder] else { return }
        rendition.parts.append(StoredPart(epoch: epoch, segmentStart: part.segmentStart, index: part.index, duration: part.duration,
                                          independent: part.independent, body: body, etag: etag))
        // Parts are listed for the last three target durations: keep those of the last 4 segments.
        if let oldest = rendition.segments.suffix(4).first?.start, rendition.parts.first.map({ $0.segmentStart < oldest }) == true {
            rendition.parts.removeAll { $0.segmentStart < oldest }
        }
        renditions[folder] = rendition
        render(now: now, partsOnly: true)
    }

    /// An init segment's name in URLs: `init_<epoch>.mp4`, or on a media timeline the hash of
    /// its bytes (its ETag's), the same on every origin.
    package func initName(_ rendition: Rendition, epoch: Int) -> String {
        guard mediaTimeline, let etag = rendition.inits[epoch]?.etag else { return "init_\(epoch).mp4" }
        return "init_\(etag.dropFirst().prefix { $0 != "-" }).mp4"
    }

    /// A stored part by name.
    package func part(folder: String, segmentStart: Int64, index: Int) -> StoredPart? {
        renditions[folder]?.parts.last { $0.segmentStart == segmentStart && $0.index == index }
    }

    /// The segment being written: its media sequence number, start and parts so far.
    package func inProgress(_ rendition: Rendition) -> (sequence: UInt64, start: Int64?, parts: ArraySlice<StoredPart>) {
        let lastStart = rendition.segments.last?.start ?? Int64.min
        let first = rendition.parts.firstIndex { $0.segmentStart > lastStart } ?? rendition.parts.endIndex
        let parts = rendition.parts[first...]
        let start = parts.first?.segmentStart ?? rendition.segments.last.map { $0.start + $0.duration }
        return (rendition.nextSequence, start, parts)
    }

    /// Whether a blocking playlist request for `sequence` (and `part` of it) can be answered:
    /// that segment is complete, or that part of it exists.
    func hasPublished(folder: String, sequence: UInt64, part: Int?) -> Bool {
        guard let rendition = renditions[folder], documents["\(folder)/playlist.m3u8"] != nil else { return false }
        if let last = rendition.segments.last, sequence <= last.sequence { return true }
        guard let part, sequence == rendition.nextSequence else { return false }
        return inProgress(rendition).parts.count > part
    }

    mutating func append(_ stored: StoredSegment, to rendition: inout Rendition) {
        rendition.nextSequence = stored.sequence + 1
        rendition.lastEpoch = stored.epoch
        rendition.segments.append(stored)
        let seconds = Double(stored.duration) / Double(rendition.timescale)
        rendition.peakBitRate = max(rendition.peakBitRate, Int(Double(stored.size * 8) / seconds))
        targetDuration = max(targetDuration, Int(seconds.rounded()))
    }

    /// Segments stay available a window and a target duration after they leave the playlist
    /// (RFC 8216bis §6.2.2), then go.
    /// - Returns: the files that went.
    mutating func evict() -> [(folder: String, name: String)] {
        let keep = liveEdge - 2 * window - Double(targetDuration)
        var removed: [(folder: String, name: String)] = []
        for folder in renditions.keys {
            var rendition = renditions[folder]!
            let drop = rendition.segments.prefix { rendition.end(of: $0) < keep }.count
            guard drop > 0 else { continue }
            rendition.discontinuitiesRemoved += UInt64(rendition.segments.prefix(drop).filter(\.discontinuity).count)
            removed += rendition.segments.prefix(drop).map { (folder, rendition.fileName($0)) }
            rendition.segments.removeFirst(drop)
            let liveEpochs = Set(rendition.segments.map(\.epoch))
            let current = epochs.last?.id
            for epoch in rendition.inits.keys where !liveEpochs.contains(epoch) && epoch != current {
                rendition.inits[epoch] = nil
                removed.append((folder, "init_\(epoch).mp4"))
            }
            renditions[folder] = rendition
        }
        let used = Set(renditions.values.flatMap { $0.segments.map(\.epoch) })
        let current = epochs.last?.id
        epochs.removeAll { !used.contains($0.id) && $0.id != current }
        return removed
    }

    /// With an archive, drops from memory the bytes of segments older than the memory horizon
    /// (the newest are a suffix in memory: walks back from the edge to the first one dropped).
    private mutating func offload() {
        guard let memoryHorizon else { return }
        let horizon = liveEdge - memoryHorizon
        for folder in renditions.keys {
            var rendition = renditions[folder]!
            var index = rendition.segments.endIndex
            while index > rendition.segments.startIndex, rendition.end(of: rendition.segments[index - 1]) >= horizon { index -= 1 }
            var changed = false
            // Back to the first segment already dropped; pinned ones stay on the way.
            while index > rendition.segments.startIndex, rendition.segments[index - 1].body != nil {
                index -= 1
                guard !rendition.segments[index].pinned else { continue }
                rendition.segments[index].body = nil
                changed = true
            }
            if changed { renditions[folder] = rendition }
        }
    }

    /// Keeps a segment's bytes in memory for as long as it is in the window (its archive
    /// write failed, so memory is the only copy).
    mutating func keepInMemory(folder: String, sequence: UInt64) {
        guard var rendition = renditions[folder],
              let index = rendition.segments.lastIndex(where: { $0.sequence == sequence }) else { return }
        rendition.segments[index].pinned = true
        renditions[folder] = rendition
    }

    /// Renditions of the current epoch that received samples (they have its init segment).
    var activeFolders: [String] {
        guard let current = epochs.last else { return [] }
        return current.folders.filter { renditions[$0]?.inits[current.id] != nil }
    }

    /// MPEG-TS variants of the current epoch with a segment in it.
    var activeTransportFolders: [String] {
        guard let current = epochs.last else { return [] }
        return current.transportFolders.map(\.folder).filter { renditions[$0]?.segments.last?.epoch == current.id }
    }

    /// The segments of a rendition inside the playlist window.
    func listed(_ rendition: Rendition) -> ArraySlice<StoredSegment> {
        let from = liveEdge - window
        let first = rendition.segments.firstIndex { rendition.end(of: $0) > from } ?? rendition.segments.endIndex
        return rendition.segments[first...]
    }

    /// A stored segment by its name's start time.
    package func segment(folder: String, start: Int64) -> StoredSegment? {
        guard let segments = renditions[folder]?.segments else { return nil }
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].start < start { low = mid + 1 } else { high = mid }
        }
        return low < segments.count && segments[low].start == start ? segments[low] : nil
    }

    /// Whether a segment starting at `start` may still appear (it is after the live edge).
    package func isFuture(folder: String, start: Int64) -> Bool {
        guard let last = renditions[folder]?.segments.last else { return true }
        return start > last.start
    }

    /// Re-renders what a publication changed. A part changes only the CMAF media playlists (and
    /// their delta updates): the multivariant playlists, MPEG-TS playlists and the MPD, which
    /// list whole segments, are left as they are.
    mutating func render(now: Double, partsOnly: Bool = false) {
        // Nothing is published until every rendition of the current epoch that has samples has
        // a segment (a track the input declares but never feeds is left out).
        let active = activeFolders
        guard let current = epochs.last, !active.isEmpty,
              active.allSatisfy({ renditions[$0]?.segments.last?.epoch == current.id }) else { return }
        var documents = partsOnly ? self.documents : [:]
        if formats.contains(.hls) {
            for folder in active {
                documents["\(folder)/playlist.m3u8"] = Self.document(mediaPlaylist(folder))
                if partTarget != nil { documents["\(folder)/playlist.m3u8?skip"] = Self.document(mediaPlaylist(folder, skip: true)) }
            }
            if !partsOnly { documents["master.m3u8"] = Self.document(multivariantPlaylist()) }
        }
        if partsOnly {
            self.documents = documents
            return
        }
        let transport = activeTransportFolders
        if !transport.isEmpty {
            for folder in transport {
                documents["\(folder)/playlist.m3u8"] = Self.document(mediaPlaylist(folder))
            }
            documents["master-ts.m3u8"] = Self.document(transportMultivariantPlaylist(transport))
        }
        lastPublication = now
        if formats.contains(.dash), let (head, tail) = try? mpdText(publishTime: now) {
            mpd = (head, tail, Self.etag(Array((head + tail).utf8)))
        }
        self.documents = documents
    }

    static func document(_ text: String) -> Document {
        let bytes = Array(text.utf8)
        return Document(body: ByteBuffer(bytes: bytes), etag: etag(bytes))
    }

    /// A strong ETag from the content (FNV-1a, 64 bits): the same bytes give the same tag in
    /// every process, so a restarted or redundant origin does not invalidate CDN copies.
    package static func etag(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))-\(String(bytes.count, radix: 16))\""
    }
}
