import KerfCore
import KerfManifest
import KerfMedia
import KerfPackager
import NIOCore

/// One epoch of a live channel: a packager over an open input, whose events go into the
/// channel's window (and archive). Made when an input connects or its timestamps jump; finished
/// before the next one starts, so segments of one epoch never follow the next's.
struct EpochSession {
    let packager: LivePackager
    let channel: LiveChannel
    var epoch: Int?
    /// Closed captions in the video samples.
    var captions: CaptionWatch

    init(input: any PacketSource, channel: LiveChannel) throws {
        packager = try LivePackager(input: input, segmentDuration: channel.configuration.targetDuration,
                                    transportStream: channel.configuration.formats.contains(.hlsTS),
                                    partDuration: channel.configuration.partTarget, encryption: channel.configuration.encryption,
                                    timedMetadata: channel.configuration.isPush)
        self.channel = channel
        captions = CaptionWatch(tracks: packager.tracks)
        // Splices asked for and not cut yet (a new epoch after a reconnect or a jump).
        for point in channel.splices.withLock({ $0.points }) { packager.addSplicePoint(point) }
    }

    /// - Parameter readAt: when the packet was read, to measure the listing latency.
    mutating func push(_ packet: Packet, readAt: Double) throws -> LivePackager.PushResult {
        if !packager.hasOrigin {
            if let epoch = channel.configuration.epoch {
                // Media timeline: the input's timestamps from the epoch (channel time 0 unless a
                // journal of an older origin says otherwise), never before what is published
                // (the packager falls back to that minimum).
                let origin = channel.window.withLock { $0.origin }
                packager.mediaTimeline = MediaTime(seconds: epoch - origin, timescale: 1000)
                packager.timelineOffset = channel.window.withLock { $0.nextEpochStart(now: origin) }
            } else {
                packager.timelineOffset = channel.window.withLock { $0.nextEpochStart(now: channel.clock.now()) }
            }
        }
        let (result, events) = try packager.push(packet)
        if epoch == nil && packager.hasOrigin {
            let tracks = packager.tracks, variants = packager.transportVariants, start = packager.timelineOffset
            // With timed ID3 in the input, or a publisher that may send timed data at any time
            // (`carriesTimedMetadata`), the ID3 scheme is declared ahead.
            let schemes = (channel.configuration.dashEvents.contains(.inband) ? [EventMessage.scte35Scheme] : [])
                + (packager.carriesTimedMetadata ? [EventMessage.id3Scheme] : [])
            let (begun, renditions) = channel.window.withLock { window in
                let begun = window.beginEpoch(tracks: tracks, transportVariants: variants, start: start, now: channel.clock.now(),
                                              eventSchemes: schemes)
                return (begun, begun.renditions.compactMap { folder in
                    window.renditions[folder].map { (folder, $0, window.presentation.tracks[folder]) }
                })
            }
            channel.journal(renditions.map { folder, rendition, track in
                .rendition(folder: folder, track: rendition.track, muxed: rendition.muxed, nextSequence: track?.nextSequence ?? 0,
                           discontinuitiesRemoved: track?.discontinuitiesRemoved ?? 0, targetDuration: nil, peakBitRate: nil)
            } + [.epoch(id: begun.id, start: begun.start, folders: tracks.map(\.folder),
                        transport: variants.map { LiveWindow.TransportFolder(folder: $0.folder, lead: tracks[$0.lead].folder) })])
            epoch = begun.id
            channel.logger.info("epoch started", metadata: ["epoch": "\(begun.id)", "at": "\(start.seconds)"])
        }
        publish(events, readAt: readAt)
        watchCaptions(packet)
        return result
    }

    func finish() {
        do { publish(try packager.finish()) } catch {
            channel.logger.warning("cannot complete the last segments", metadata: ["error": "\(error)"])
        }
    }

    private func publish(_ events: [LivePackager.Event], readAt: Double? = nil) {
        guard let epoch else { return }
        for event in events {
            switch event {
            case .initialization(let track, let bytes, let timescale):
                let folder = packager.tracks[track].folder
                channel.window.withLock { $0.addInit(folder: folder, epoch: epoch, bytes: bytes, timescale: timescale) }
                channel.archiving("an init segment") { try $0.store(folder: folder, name: "init_\(epoch).mp4", bytes: bytes) }
                channel.journal([.initialization(folder: folder, epoch: epoch, timescale: timescale)])
            case .segment(let segment):
                let now = add(segment, folder: packager.tracks[segment.track].folder, epoch: epoch)
                if let readAt {
                    let latency = channel.clock.now() - readAt
                    channel.statistics.withLock { $0.listing.record(latency) }
                }
                if segment.track == 0 { channel.measureBitRate(now: now) }
            case .boundary(let start):
                channel.spliceCut(at: start, packager: packager)
            case .transportSegment(let variant, let segment):
                add(segment, folder: packager.transportVariants[variant].folder, epoch: epoch)
            case .part(let track, let part, let bytes):
                let folder = packager.tracks[track].folder
                let body = ByteBuffer(bytes: bytes), etag = LiveWindow.etag(bytes)
                channel.window.withLock { $0.addPart(folder: folder, epoch: epoch, part: part, body: body, etag: etag) }
                channel.publish(partsOnly: true)
                if let readAt, track == 0 {
                    let latency = channel.clock.now() - readAt
                    channel.statistics.withLock { $0.partAnswers.record(latency) }
                }
            }
        }
    }

    /// Publishes a segment into the window (its ETag made outside the lock); returns when.
    @discardableResult
    private func add(_ segment: LivePackager.Segment, folder: String, epoch: Int) -> Double {
        let body = ByteBuffer(bytes: segment.bytes), etag = LiveWindow.etag(segment.bytes)
        let (removed, listed) = channel.window.withLock { window in
            let removed = window.addSegment(folder: folder, epoch: epoch, segment: segment, body: body, etag: etag)
            return (removed, window.presentation.tracks[folder]?.segments.last)
        }
        // On disk and in the journal before any playlist lists it: an origin killed at any
        // point and restarted from its archive serves every segment it ever listed.
        if let listed, listed.start == segment.start {
            if !channel.archiving("a segment", { try $0.store(folder: folder, name: String(listed.uri.dropFirst(folder.count + 1)), bytes: segment.bytes) }) {
                // Not on disk: served from memory for as long as it is listed (journaled all
                // the same, so the numbering survives a restart).
                channel.window.withLock { $0.keepInMemory(folder: folder, sequence: listed.sequence) }
            }
            channel.journal([.segment(folder: folder, epoch: epoch, sequence: listed.sequence, start: listed.start,
                                      duration: listed.duration, size: listed.size, etag: etag, discontinuity: listed.discontinuity,
                                      protection: listed.entry.protection)])
        }
        let now = channel.publish()
        channel.metrics.segments.increment()
        channel.archive?.remove(removed)
        return now
    }
}
