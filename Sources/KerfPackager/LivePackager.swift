import KerfCore
import KerfCrypto
import KerfMedia

/// Segments one live input in memory: the VOD packager's segmenter and CMAF writer in live
/// mode. Packets go in as they are read; init segments and completed media segments come out as
/// events, each segment the moment the first sample of the next one arrives.
///
/// One `LivePackager` covers one *epoch*: a stretch of input with continuous timestamps. Its
/// samples are placed on the channel's timeline at `timelineOffset` (the channel time of the
/// epoch's first keyframe), so segment times keep increasing across epochs. When the input's
/// timestamps jump, `push` answers `.discontinuity` and the owner starts a new epoch.
public final class LivePackager {
    /// One completed media segment, timed on the channel timeline (in the track's timescale).
    public struct Segment: Sendable {
        public var track: Int
        public var start: MediaTime
        public var duration: MediaTime
        public var bytes: [UInt8]
        /// Under key rotation, the key period's protection (its KID and signalling).
        public var protection: ContentProtection?

        public init(track: Int, start: MediaTime, duration: MediaTime, bytes: [UInt8], protection: ContentProtection? = nil) {
            self.track = track
            self.start = start
            self.duration = duration
            self.bytes = bytes
            self.protection = protection
        }
    }

    /// An MPEG-TS variant for legacy HLS: a video track muxed with the first audio track (or,
    /// without video, one audio track alone). Its segments cover the lead track's.
    public struct TransportVariant: Sendable, Codable {
        /// Folder in the channel's URLs ("ts_video_720p").
        public var folder: String
        /// The track whose segments the variant's follow (and whose timing they carry).
        public var lead: Int
        public var members: [Int]
    }

    public enum Event: Sendable {
        /// A track's init segment, produced at its first sample.
        case initialization(track: Int, bytes: [UInt8], timescale: Int64)
        case segment(Segment)
        /// An MPEG-TS segment of a transport variant, timed like its lead track's segment
        /// (`segment.track` is the lead).
        case transportSegment(variant: Int, Segment)
        /// A partial segment of a track's segment in progress (with `partDuration`).
        case part(track: Int, PartRecord, bytes: [UInt8])
        /// The reference track (first video) cut: a segment starts at this channel time (exactly
        /// its segments' start), announced when the cut is decided, before the segment is done.
        case boundary(MediaTime)
    }

    public enum PushResult: Sendable, Equatable {
        case accepted
        /// The packet's timestamps jump away from the track's, or a track has waited too long
        /// for the reference (a video track that stopped while audio flows): end this epoch and
        /// start another.
        case discontinuity
    }

    /// Samples a track may hold while the reference track does not advance (about a minute of
    /// AAC): beyond it the epoch ends instead of memory growing.
    public var maximumHeldSamples = 3000

    public let tracks: [Track]
    /// The input has timed ID3 (a `timed_id3` stream): its tags go into the segments
    /// (`addEventMessage`), and MPEG-TS variants have a metadata stream for them.
    public let carriesTimedMetadata: Bool
    /// MPEG-TS variants (empty unless asked for).
    public let transportVariants: [TransportVariant]
    public let segmentDuration: MediaTime
    /// Partial segment target for low-latency delivery (nil: whole segments only).
    public let partDuration: MediaTime?
    /// Common Encryption of the CMAF tracks (nil: clear).
    public let encryption: CommonEncryption?
    /// Each protected track's content key, by track number.
    private var keys: [Int: ContentKey] = [:]
    /// The channel time of the epoch's first keyframe; may change until `hasOrigin`.
    public var timelineOffset: MediaTime
    /// Media-derived timeline (redundant origins): when set, the channel time of a sample is
    /// this plus its input timestamp, and segments are cut at multiples of the target on that
    /// absolute timeline, so every origin packaging the same input cuts and names alike.
    public var mediaTimeline: MediaTime? {
        didSet { segmenter.absoluteBoundaries = mediaTimeline != nil }
    }
    /// True once the epoch's first keyframe (or audio sample) has been taken: from then on
    /// `timelineOffset` is fixed.
    public var hasOrigin: Bool { origin != nil }

    private final class TrackRun: QueuedTrack {
        let track: Track
        let streamIndex: Int
        var parameters: CodecParameters
        let lengthSize: Int
        var conversion = PayloadConversion.none
        var writer: CMAFTrackWriter?
        var timescale: Int64 = 1
        var firstPTS: MediaTime?
        var firstDTS: MediaTime?
        var lastDTS: MediaTime?
        var lastDuration: MediaTime = .zero(timescale: 1)
        var queue = SampleQueue<QueuedSample>()

        init(track: Track, streamIndex: Int, parameters: CodecParameters) {
            self.track = track
            self.streamIndex = streamIndex
            self.parameters = parameters
            self.lengthSize = RandomAccess.lengthSize(codec: track.info.codec, extradata: parameters.extradata)
        }
    }

    /// Events produced while handling one call, returned by that call; and the MPEG-TS
    /// segments waiting for their lead track's segment timing (or the reverse), by variant and
    /// segment index.
    private final class Outbox {
        var events: [Event] = []
        var transportBytes: [Int: [Int: [UInt8]]] = [:]
        var leadTiming: [Int: [Int: (start: MediaTime, duration: MediaTime)]] = [:]

        func joinTransport(variant: Int, lead: Int, index: Int) {
            // Halves whose other half never came (a failed segment) are not kept for ever.
            if transportBytes[variant]?.keys.contains(where: { $0 <= index - 8 }) == true {
                transportBytes[variant] = transportBytes[variant]?.filter { $0.key > index - 8 }
            }
            if leadTiming[variant]?.keys.contains(where: { $0 <= index - 8 }) == true {
                leadTiming[variant] = leadTiming[variant]?.filter { $0.key > index - 8 }
            }
            guard let bytes = transportBytes[variant]?[index], let timing = leadTiming[variant]?[index] else { return }
            transportBytes[variant]?[index] = nil
            leadTiming[variant]?[index] = nil
            events.append(.transportSegment(variant: variant, Segment(track: lead, start: timing.start, duration: timing.duration,
                                                                      bytes: bytes)))
        }
    }

    private let runs: [TrackRun]
    private let transportWriters: [TSVariantWriter]
    private var byStream: [Int: TrackRun] = [:]
    var segmenter: Segmenter
    private let outbox = Outbox()
    /// The input time of the epoch's first video keyframe (or first audio sample).
    var origin: MediaTime?
    private let anchor: TrackRun?
    private let text: LiveTextCutter  // text tracks, cut where the first video track's segments are
    /// Splice points asked for before the epoch's origin was known (channel time).
    var heldSplicePoints: [MediaTime] = []
    /// The channel time of the last reference sample taken.
    public internal(set) var referenceTime: MediaTime?
    private var segmentsSinceTrim = 0

    /// A timestamp step larger than this (forwards) or back beyond one second starts a new epoch.
    public var maximumGap = MediaTime(value: 10, timescale: 1)

    /// - Parameters:
    ///   - input: the open input; its video and audio tracks that CMAF can carry are published.
    ///   - timelineOffset: the channel time at which this epoch starts (settable until the
    ///     first keyframe arrives).
    ///   - transportStream: also mux MPEG-TS segments (`transportVariants`).
    ///   - partDuration: also hand out partial segments of about this duration (`.part`).
    /// - Throws: `PackagerError` when the input has no video or audio track Kerf can package.
    ///   - timedMetadata: carry timed ID3 even when the input has no `timed_id3` stream (a
    ///     publisher's timed data, given by `addEventMessage`).
    public init(input: any PacketSource, segmentDuration: MediaTime, timelineOffset: MediaTime = .zero(timescale: 1000),
                transportStream: Bool = false, partDuration: MediaTime? = nil, encryption: CommonEncryption? = nil,
                timedMetadata: Bool = false) throws {
        let all = try PlannedTrack.plan(inputs: [(input.url, input.tracks)]), planned = all.filter { $0.kind != .text }
        guard !planned.isEmpty else {
            let found = input.tracks.map(\.codec).joined(separator: ", ")
            throw PackagerError(.unsupportedInput, "no video or audio track that can be packaged",
                                reason: found.isEmpty ? "no tracks" : "tracks: \(found)", file: input.url)
        }
        var tracks: [Track] = []
        var runs: [TrackRun] = []
        var keys: [Int: ContentKey] = [:]
        for plan in planned {
            var protection: ContentProtection?
            if let encryption {
                guard let key = try encryption.key(for: plan.kind, track: plan.info, name: plan.folder) else {
                    throw PackagerError(.invalidOptions, "no encryption key for the \(plan.kind) track \(plan.folder)", file: input.url)
                }
                keys[tracks.count] = key
                protection = encryption.rotation == nil ? try Self.protection(encryption, key) : try Self.rotatingProtection(encryption, key)
            }
            let track = Track(number: tracks.count, info: plan.info, kind: plan.kind, folder: plan.folder,
                              name: plan.name, language: plan.language, isDefault: plan.isDefault, protection: protection)
            tracks.append(track)
            runs.append(TrackRun(track: track, streamIndex: plan.info.index,
                                 parameters: input.codecParameters(track: plan.info.index)))
        }
        carriesTimedMetadata = timedMetadata || input.tracks.contains { $0.codec == "timed_id3" }
        text = LiveTextCutter(all.filter { $0.kind == .text }, after: tracks)
        self.tracks = tracks + text.tracks
        self.runs = runs
        self.keys = keys
        self.encryption = encryption
        self.partDuration = partDuration
        var variants: [TransportVariant] = []
        var writers: [TSVariantWriter] = []
        if transportStream {
            let groups = SegmentDispatch.transportGroups(tracks, kind: \.kind)
            let outbox = self.outbox
            for group in groups {
                let variant = variants.count, lead = group[0].number
                variants.append(TransportVariant(folder: "ts_\(group[0].folder)", lead: lead, members: group.map(\.number)))
                let members = group.map { track in
                    TSVariantWriter.Member(track: track.number, parameters: runs[track.number].parameters,
                                           timeBase: track.info.timeBase, language: track.language)
                }
                writers.append(try TSVariantWriter(folder: variants[variant].folder, members: members, timestampOffset: .zero(timescale: 1),
                                                   closesBehindLead: true, carriesMetadata: carriesTimedMetadata) {
                    index, _, bytes in
                    outbox.transportBytes[variant, default: [:]][index] = bytes
                    outbox.joinTransport(variant: variant, lead: lead, index: index)
                    return bytes.count
                })
            }
        }
        transportVariants = variants
        transportWriters = writers
        self.segmentDuration = segmentDuration
        self.timelineOffset = timelineOffset
        for run in runs { byStream[run.streamIndex] = run }
        anchor = runs.first { $0.track.kind == .video } ?? runs.first
        segmenter = Segmenter(target: segmentDuration, tracks: Dictionary(uniqueKeysWithValues: planned.enumerated().map {
            ($0.offset, Segmenter.TrackConfiguration(kind: $0.element.kind, frameDuration: $0.element.frameDuration))
        }))
    }

    /// Feeds one packet read from the input.
    /// - Returns: whether it was taken, and the events it completed.
    /// - Throws: `PackagerError`/`MediaError` when a track's output cannot be created.
    public func push(_ packet: Packet) throws -> (result: PushResult, events: [Event]) {
        defer { outbox.events = [] }
        if text.accept(packet, start: channelTime(of: packet)) { return (.accepted, []) }
        guard let run = byStream[packet.streamIndex], let pts = packet.pts ?? packet.dts else { return (.accepted, []) }
        let dts = packet.dts ?? pts
        if run.track.kind == .audio && packet.isDiscard { return (.accepted, []) }
        let independent = run.track.kind != .video || (packet.isKeyframe && packet.startsIndependently(
            codec: run.track.info.codec, extradata: run.parameters.extradata, lengthSize: run.lengthSize))
        if origin == nil {
            guard run === anchor, independent else { return (.accepted, []) }
            origin = pts
            if let mediaTimeline {
                // Placed by its own timestamp, unless that falls before what is already published
                // (timelineOffset holds that minimum): then by the minimum, as without a media
                // timeline, rather than reuse a published name for other bytes.
                let placed = mediaTimeline + pts
                if placed >= timelineOffset { timelineOffset = placed } else { self.mediaTimeline = nil }
            }
        }
        let origin = origin!
        if let last = run.lastDTS {
            let step = dts - origin - last
            if step > maximumGap || step < MediaTime(value: -1, timescale: 1) { return (.discontinuity, []) }
            // Equal or slightly decreasing decode times cannot be written; such samples are dropped.
            if step.value <= 0 { return (.accepted, []) }
        }
        if run.firstPTS == nil {
            if run.track.kind == .video && !independent { return (.accepted, []) }
            if pts < origin { return (.accepted, []) }
            run.firstPTS = pts
            run.firstDTS = dts
            try prepareOutput(run, packet: packet)
        }
        run.lastDTS = dts - origin
        if let duration = packet.duration { run.lastDuration = duration }
        let converted = run.conversion == .none ? try packet.makeReference() : try packet.replacingPayload(run.conversion.convert(packet.bytes))
        let lead = run.firstPTS! - origin
        let decodeTime = (dts - run.firstDTS! + lead + timelineOffset).rescaled(to: run.timescale).value
        let offset = run.track.kind == .video
            ? ((pts - dts) - (run.firstPTS! - run.firstDTS!)).rescaled(to: run.timescale).value : 0
        if run.queue.count >= maximumHeldSamples { return (.discontinuity, []) }
        var queued = QueuedSample(packet: converted, decodeTime: decodeTime, offset: offset, sync: independent)
        if !transportWriters.isEmpty {
            queued.original = try packet.makeReference()
            queued.pts = (pts - origin + timelineOffset).ticks(of: run.track.info.timeBase)
            queued.dts = (dts - origin + timelineOffset).ticks(of: run.track.info.timeBase)
        }
        run.queue.append(queued)
        // With a media timeline the segmenter measures from its absolute zero, so cuts fall on
        // the same multiples of the target whenever an origin joined the input.
        let base = mediaTimeline == nil ? origin : origin - timelineOffset
        let sample = SampleTiming(track: run.track.number, pts: pts - base, dts: dts - base,
                                  duration: packet.duration ?? .zero(timescale: 1), isKeyframe: independent, size: converted.size)
        let cuts = segmenter.boundaries.count + segmenter.discardedBoundaries
        if run === anchor, !heldSplicePoints.isEmpty { addHeldSplicePoints() }
        try perform(segmenter.push(sample))
        if run === anchor {
            referenceTime = pts - origin + timelineOffset
            if segmenter.boundaries.count + segmenter.discardedBoundaries > cuts {
                outbox.events.append(.boundary(MediaTime(value: decodeTime + offset, timescale: run.timescale)))
            }
        }
        return (.accepted, outbox.events)
    }

    /// The tracks whose segments carry the channel's emsg events: every video track, or
    /// without video every audio track.
    package static func eventCarriers(_ tracks: [Track]) -> Set<Int> {
        let kind: Segmenter.Kind = tracks.contains { $0.kind == .video } ? .video : .audio
        return Set(tracks.filter { $0.kind == kind }.map(\.number))
    }

    /// Queues an event for the emsg boxes of the carrying tracks (`eventCarriers`), written
    /// where its placement says; a track not started yet does not get it.
    package func addEventMessage(_ message: EventMessage) {
        let carriers = Self.eventCarriers(tracks)
        for run in runs where carriers.contains(run.track.number) {
            run.writer?.eventMessages.append(message)
            run.writer?.eventMessages.sort { $0.time < $1.time }
        }
        // MPEG-TS variants carry timed ID3 as it is, in their metadata stream.
        guard message.scheme == EventMessage.id3Scheme, carriesTimedMetadata else { return }
        for writer in transportWriters {
            writer.timedMetadata.append(message)
            writer.timedMetadata.sort { $0.time < $1.time }
        }
    }

    /// Ends the epoch: the segments in progress are completed and returned.
    public func finish() throws -> [Event] {
        defer { outbox.events = [] }
        try perform(segmenter.finish().actions)
        for run in runs {
            try run.writer?.finish(lastDuration: run.lastDuration.rescaled(to: run.timescale).value)
        }
        for writer in transportWriters { try writer.finish() }
        return outbox.events + text.segments(following: outbox.events[...])
    }

    /// The protection of each key period met lately (key rotation).
    var periodProtections: [Int64: ContentProtection] = [:]

    private func prepareOutput(_ run: TrackRun, packet: Packet) throws {
        let initSegment: InitSegment
        (run.conversion, run.parameters, initSegment) = try InitSegment.prepare(
            parameters: run.parameters, timeBase: run.track.info.timeBase, language: run.track.language,
            name: run.track.folder, firstPacket: packet)
        run.timescale = initSegment.timescale
        var initBytes = initSegment.bytes
        var encryptor: TrackEncryptor?
        var rotating: RotatingEncryptor?
        if let encryption, let key = keys[run.track.number] {
            let track = run.track, extradata = run.parameters.extradata
            let iv = encryption.rotation?.iv(scheme: encryption.scheme, rendition: track.folder) ?? encryption.iv(for: key)
            func make(_ key: ContentKey) throws -> TrackEncryptor {
                let made = try TrackEncryptor(scheme: encryption.scheme, key: key, iv: iv, isVideo: track.kind == .video,
                                              codec: track.info.codec, extradata: extradata, rendition: track.folder)
                made.ivFromDecodeTime = true
                return made
            }
            let made = try make(key)
            if let rotation = encryption.rotation {
                made.signalledKeyID = [UInt8](repeating: 0, count: 16)
                // The period's signalling is made once, for its fragments' pssh boxes and its segments.
                rotating = RotatingEncryptor(rotation: rotation, make: make) { [unowned self] period in
                    try self.periodProtection(period: period).systems.compactMap(\.pssh).flatMap { $0 }
                }
            }
            initBytes = try InitSegment.protect(initBytes, isVideo: run.track.kind == .video, sinf: made.protectionSchemeInfo(originalFormat:),
                                                clearEntry: false, pssh: encryption.psshInInit ? try encryption.psshBoxes(for: key) : []).bytes
            encryptor = made
        }
        let naming = SegmentNaming(folder: run.track.folder, byTime: true, fileExtension: "m4s")
        let number = run.track.number, timescale = initSegment.timescale
        let outbox = self.outbox
        let led = transportVariants.indices.filter { transportVariants[$0].lead == number }
        let partTicks = partDuration.map { $0.rescaled(to: timescale).value }
        let onPart: ((PartRecord, [UInt8]) -> Void)? = partTicks == nil ? nil : { part, bytes in
            outbox.events.append(.part(track: number, part, bytes: bytes))
        }
        run.writer = CMAFTrackWriter(timescale: timescale, isVideo: run.track.kind == .video, naming: naming,
                                     partDuration: partTicks, encryptor: encryptor, rotating: rotating, onPart: onPart) { [unowned self] record, bytes in
            let protection = self.encryption?.rotation.flatMap { self.periodProtections[$0.period(of: record.start)] }
            outbox.events.append(.segment(Segment(track: number, start: record.start, duration: record.duration, bytes: bytes,
                                                  protection: protection)))
            for variant in led {
                outbox.leadTiming[variant, default: [:]][record.number - 1] = (record.start, record.duration)
                outbox.joinTransport(variant: variant, lead: number, index: record.number - 1)
            }
        }
        outbox.events.append(.initialization(track: number, bytes: initBytes, timescale: timescale))
    }

    private func perform(_ actions: [Segmenter.Action]) throws {
        let before = outbox.events.count
        segmentsSinceTrim += try SegmentDispatch.perform(actions, tracks: runs, transport: transportWriters)
        if !text.isEmpty { outbox.events += text.segments(following: outbox.events[before...]) }
        if segmentsSinceTrim >= 64 {
            segmentsSinceTrim = 0
            segmenter.discardHistory()
        }
    }
}
