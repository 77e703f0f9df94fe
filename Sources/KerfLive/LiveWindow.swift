import KerfCore
import KerfManifest
import KerfPackager
import NIOCore

/// What one live channel publishes: its epochs (stretches of continuous input), and for every
/// rendition the init segments, the sliding window of media segments and the partial segments,
/// with their bytes. What is listed lives in a `Presentation` (the manifest model packages use
/// too), fed with the same `SegmentEvent`s; the bytes live here, by URI.
///
/// Times are on the channel timeline, whose 0 is the wall-clock instant `origin` (DASH
/// availabilityStartTime): each epoch is placed at the wall-clock instant its first keyframe
/// arrived, so the timeline keeps increasing across reconnects (and across restarts, as long as
/// the origin is kept), segments and init segments are named by their start time
/// (`seg_<t>.m4s`, `init_<epoch start in ms>.mp4`) and DASH availability follows the wall clock.
///
/// A value type: mutations never render. The owner renders a copy (`rendered(now:)`) outside
/// the lock request threads take, then installs the documents (`install`).
package struct LiveWindow: Sendable {
    /// Bytes published under a URI (a segment, an init segment or a part).
    package struct Stored: Sendable {
        /// Nil when only in the archive (older than its memory horizon).
        package var body: ByteBuffer?
        package var etag: String
        package var size: Int
        /// Kept in memory past the memory horizon: its archive write failed.
        package var pinned = false
    }

    /// What the packager said of a rendition (journaled, so a restart lists it alike).
    package struct Rendition: Sendable {
        package var track: LivePackager.Track
        /// An MPEG-TS variant: `track` is its lead (video) track, `muxed` every track in it.
        package var muxed: [LivePackager.Track]?
        package var isTransportStream: Bool { muxed != nil }
        /// The epoch of the last segment, kept when segments leave.
        package var lastEpoch: Int?
    }

    package struct TransportFolder: Sendable, Codable, Equatable {
        package var folder: String
        package var lead: String
    }

    /// A rendered playlist or MPD.
    package struct Document: Sendable {
        package var body: ByteBuffer
        package var etag: String
    }

    package let name: String
    /// What the channel publishes (`formats:`).
    package let formats: Set<ChannelConfiguration.Format>
    package let segmentDuration: MediaTime
    /// Media listed in playlists (and DASH timeShiftBufferDepth).
    package let window: MediaTime
    /// Wall-clock seconds (since 1970) of channel time 0 (availabilityStartTime).
    package let origin: Double
    /// What DASH SegmentTimelines list (`dash-timeline:`).
    package var dashTimeline = ChannelConfiguration.DASHTimeline.period
    /// How HLS lists splice markers (`ad-markers:`).
    package var adMarkers: Presentation.AdMarkers = [.dateRange]
    /// Where DASH carries splices (`dash-events:`).
    package var dashEvents: Presentation.DASHEvents = [.period]
    /// A DASH Period at each splice out and return (`ad-periods:`).
    package var adPeriods = false
    /// The listing: renditions, epochs, segments and parts, as the manifests name them.
    package internal(set) var presentation = Presentation()
    package internal(set) var renditions: [String: Rendition] = [:]
    /// Published bytes by URI (`<folder>/<name>`).
    package internal(set) var stored: [String: Stored] = [:]
    /// EXT-X-TARGETDURATION: the configured duration rounded up, raised if a longer segment comes.
    package var targetDuration: Int
    /// With an archive: media (back from the live edge) whose segment bytes stay in memory;
    /// older ones are read from the archive. Nil: everything stays in memory.
    package let memoryHorizon: MediaTime?
    /// Low-latency HLS: the partial segment target (nil: whole segments only).
    package let partTarget: MediaTime?
    /// Media timeline (redundant origins): sequence numbers from segment times, init segments
    /// named by content.
    package let mediaTimeline: Bool
    /// Rendered documents by path below the channel ("master.m3u8", "video_720p/playlist.m3u8").
    package internal(set) var documents: [String: Document] = [:]
    /// The MPD split around its UTCTiming URL, which names the host each request came to, and
    /// the ETag of the two parts (a response's adds the URL's).
    package internal(set) var mpd: (head: String, tail: String, etag: String)?
    /// Wall-clock seconds of the last publication (MPD@publishTime).
    package internal(set) var lastPublication: Double?
    /// What the installed media playlists list, by folder: blocking requests are answered from
    /// them, so they are judged by them, not by segments added since (before their playlists
    /// are rendered and installed).
    package internal(set) var publishedProgress: [String: PublishedProgress] = [:]

    package init(name: String, segmentDuration: MediaTime, window: MediaTime, formats: Set<ChannelConfiguration.Format> = [.hls, .dash],
                 memoryHorizon: MediaTime? = nil, partTarget: MediaTime? = nil, mediaTimeline: Bool = false, origin: Double = 0) {
        self.name = name
        self.origin = origin
        self.formats = formats
        self.mediaTimeline = mediaTimeline
        self.memoryHorizon = memoryHorizon
        self.partTarget = partTarget
        self.segmentDuration = segmentDuration
        self.window = window
        targetDuration = max(1, Int(segmentDuration.rescaled(to: 1, rounding: .up).value))
    }

    /// The epochs still in the window, oldest first.
    package var epochs: [Presentation.Epoch] { presentation.epochs }

    /// The channel end: the latest segment end over all renditions.
    package var liveEdge: MediaTime { presentation.liveEdge }

    /// The channel time at which an epoch starting at wall-clock `now` goes: the time elapsed
    /// since channel time 0 (milliseconds), never before what is already published.
    package func nextEpochStart(now: Double) -> MediaTime {
        let start = MediaTime(value: Int64(((now - origin) * 1000).rounded(.up)), timescale: 1000)
        return max(start, liveEdge.rescaled(to: 1000, rounding: .up))
    }

    /// Registers an epoch whose first keyframe went to channel time `start` at wall-clock `now`.
    /// - Parameter eventSchemes: the emsg schemes the segments of the tracks that carry events
    ///   (`LivePackager.eventCarriers`) have, declared from the start (DASH InbandEventStream).
    @discardableResult
    package mutating func beginEpoch(tracks: [LivePackager.Track], transportVariants: [LivePackager.TransportVariant] = [],
                                     start: MediaTime, now: Double, eventSchemes: [String] = []) -> Presentation.Epoch {
        // Media sequence numbers go on increasing across restarts: a new rendition starts
        // from the number of whole target durations since 1970.
        let sequence = UInt64(max(0, now / segmentDuration.seconds))
        let carriers = LivePackager.eventCarriers(tracks)
        for track in tracks {
            announce(Rendition(track: track, muxed: nil, lastEpoch: renditions[track.folder]?.lastEpoch), folder: track.folder,
                     firstSequence: sequence, eventSchemes: carriers.contains(track.number) ? eventSchemes : [])
        }
        for variant in transportVariants {
            announce(Rendition(track: tracks[variant.lead], muxed: variant.members.map { tracks[$0] },
                               lastEpoch: renditions[variant.folder]?.lastEpoch), folder: variant.folder, firstSequence: sequence)
        }
        let epoch = Presentation.Epoch(id: Int(start.rescaled(to: 1000).value), start: start,
                                       renditions: tracks.map(\.folder) + transportVariants.map(\.folder))
        presentation.apply(.epochStarted(id: epoch.id, start: epoch.start, renditions: epoch.renditions))
        return epoch
    }

    /// Announces a rendition to the presentation (again at each epoch: its track may change).
    /// - Parameter eventSchemes: the schemes of the emsg boxes its segments carry (nil: as
    ///   announced before).
    mutating func announce(_ rendition: Rendition, folder: String, firstSequence: UInt64, timescale: Int64? = nil,
                           eventSchemes: [String]? = nil) {
        let isNew = presentation.tracks[folder] == nil
        renditions[folder] = rendition
        let track = rendition.track
        let scale = timescale ?? presentation.tracks[folder]?.description.timescale ?? track.info.timeBase.denominator
        presentation.apply(.started(RenditionDescription(
            id: folder, kind: rendition.kind, info: track.info, name: track.name, language: track.language, isDefault: track.isDefault,
            timescale: scale, members: rendition.muxed?.map(\.info) ?? [], mediaTemplate: "\(folder)/seg_$Time$.\(rendition.fileExtension)",
            templateByTime: true, protection: rendition.isTransportStream ? nil : track.protection,
            captions: presentation.tracks[folder]?.description.captions,
            eventSchemes: eventSchemes ?? presentation.tracks[folder]?.description.eventSchemes ?? [])))
        if isNew { presentation.tracks[folder]?.nextSequence = firstSequence }
    }

    /// Adds a rendition's init segment for an epoch.
    package mutating func addInit(folder: String, epoch: Int, bytes: [UInt8], timescale: Int64) {
        guard let rendition = renditions[folder] else { return }
        let etag = Self.etag(bytes)
        announce(rendition, folder: folder, firstSequence: 0, timescale: timescale)
        let uri = "\(folder)/\(initName(epoch: epoch, etag: etag))"
        receive(.initialization(rendition: folder, epoch: epoch, InitializationEntry(uri: uri)), body: ByteBuffer(bytes: bytes), etag: etag)
    }

    /// An init segment's name in URLs: `init_<epoch>.mp4`, or on a media timeline the hash of
    /// its bytes (its ETag's), the same on every origin.
    func initName(epoch: Int, etag: String) -> String {
        guard mediaTimeline else { return "init_\(epoch).mp4" }
        return "init_\(etag.dropFirst().prefix { $0 != "-" }).mp4"
    }

    /// A segment's file name: `seg_<start in the rendition's timescale>.m4s` (`.ts`, `.vtt`).
    func fileName(start: MediaTime, _ rendition: Rendition) -> String { "seg_\(start.value).\(rendition.fileExtension)" }

    /// Adds a completed segment and slides the window. Nothing is rendered (`rendered(now:)`).
    /// - Parameters:
    ///   - body, etag: the segment's bytes and `etag(_:)`, made before taking the window's lock.
    /// - Returns: the files that left the window (segments and init segments), for the archive.
    @discardableResult
    package mutating func addSegment(folder: String, epoch: Int, segment: LivePackager.Segment, body: ByteBuffer, etag: String)
        -> [(folder: String, name: String)] {
        guard let rendition = renditions[folder], let track = presentation.tracks[folder], segment.duration.value > 0 else { return [] }
        var sequence = track.nextSequence
        if mediaTimeline {
            // The number of whole target durations before the segment's start: each segment
            // starts in its own target-long slot, so every origin numbers it alike.
            let derived = UInt64(max(0, (segment.start.seconds / segmentDuration.seconds).rounded(.down)))
            sequence = rendition.lastEpoch == nil ? derived : max(sequence, derived)
        }
        if rendition.timedBySegments, track.description.timescale != segment.start.timescale {
            announce(rendition, folder: folder, firstSequence: 0, timescale: segment.start.timescale)
        }
        let uri = "\(folder)/\(fileName(start: segment.start, rendition))"
        return add(SegmentEntry(uri: uri, sequence: sequence, start: segment.start, duration: segment.duration, size: body.readableBytes,
                                protection: segment.protection),
                   folder: folder, epoch: epoch, body: body, etag: etag)
    }

    /// Stores a segment's bytes, lists it as part of `epoch` and slides the window.
    /// - Returns: the files that left the window.
    mutating func add(_ entry: SegmentEntry, folder: String, epoch: Int, body: ByteBuffer?, etag: String) -> [(folder: String, name: String)] {
        guard presentation.tracks[folder] != nil, entry.duration.value > 0 else { return [] }
        stored[entry.uri] = Stored(body: body, etag: etag, size: entry.size)
        append(folder: folder, entry, epoch: epoch)
        let removed = evict()
        offload()
        return removed
    }

    /// Lists a segment whose bytes are stored already (or only archived) as part of `epoch`;
    /// `discontinuity` (a journal's) replaces the one worked out from the previous segment.
    mutating func append(folder: String, _ entry: SegmentEntry, epoch: Int, discontinuity: Bool? = nil) {
        let previous = presentation.tracks[folder]?.segments.last?.epoch ?? renditions[folder]?.lastEpoch
        presentation.append(entry, to: folder, epoch: epoch, discontinuity: discontinuity ?? (previous.map { $0 != epoch } ?? false))
        renditions[folder]?.lastEpoch = epoch
        targetDuration = max(targetDuration, Int(entry.duration.rescaled(to: 1, rounding: .nearest).value))
    }

    /// Adds a partial segment of the segment being written.
    package mutating func addPart(folder: String, epoch: Int, part: PartRecord, body: ByteBuffer, etag: String) {
        let uri = "\(folder)/part_\(part.segmentStart.value)_\(part.index).m4s"
        receive(.partCompleted(rendition: folder, PartEntry(uri: uri, segmentStart: part.segmentStart, index: part.index,
                                                            duration: part.duration, independent: part.independent, epoch: epoch)),
                body: body, etag: etag)
    }

    /// Segments stay available a window and a target duration after they leave the playlist
    /// (RFC 8216bis §6.2.2), then go.
    /// - Returns: the files that went (init segments by their archive name, `init_<epoch>.mp4`).
    mutating func evict() -> [(folder: String, name: String)] {
        let keep = liveEdge - window - window - MediaTime(value: Int64(targetDuration), timescale: 1)
        var removed: [(folder: String, name: String)] = []
        for folder in presentation.order {
            let initURIs = presentation.tracks[folder]?.initializations ?? [:]
            let (segments, epochs) = presentation.removeSegments(of: folder, endingBefore: keep)
            for uri in segments {
                stored[uri] = nil
                removed.append((folder, String(uri.dropFirst(folder.count + 1))))
            }
            for epoch in epochs {
                if let uri = initURIs[epoch]?.uri { stored[uri] = nil }
                removed.append((folder, "init_\(epoch).mp4"))
            }
        }
        presentation.removeUnusedEpochs()
        // A marker goes once every segment it covers has left the playlists.
        presentation.removeMarkers(endingBefore: liveEdge - window)
        return removed
    }

    /// With an archive, drops from memory the bytes of segments older than the memory horizon
    /// (the newest are a suffix in memory: walks back from the edge to the first one dropped).
    mutating func offload() {
        guard let memoryHorizon else { return }
        let horizon = liveEdge - memoryHorizon
        for track in presentation.tracks.values {
            var index = track.segments.endIndex
            while index > track.segments.startIndex, track.segments[index - 1].start + track.segments[index - 1].duration >= horizon {
                index -= 1
            }
            // Back to the first segment already dropped; pinned ones stay on the way.
            while index > track.segments.startIndex, let bytes = stored[track.segments[index - 1].uri], bytes.body != nil {
                index -= 1
                guard !bytes.pinned else { continue }
                stored[track.segments[index].uri]?.body = nil
            }
        }
    }

    /// Keeps a segment's bytes in memory for as long as it is in the window (its archive
    /// write failed, so memory is the only copy).
    package mutating func keepInMemory(folder: String, sequence: UInt64) {
        guard let segment = presentation.tracks[folder]?.segments.last(where: { $0.sequence == sequence }) else { return }
        stored[segment.uri]?.pinned = true
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
