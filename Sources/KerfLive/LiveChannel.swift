#if canImport(Glibc)
import Glibc
#endif
import KerfCore
import KerfSystem
import KerfCrypto
import KerfMedia
import KerfPackager
import KerfRTMP
import KerfTranscode
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One live channel: pulls its input through libavformat, segments it in memory and keeps the
/// published window. `run()` blocks (libavformat reads block) and must be given its own thread;
/// requests read the window through `window`, under its lock, from any thread.
///
/// Inputs are URLs (`udp://`, `srt://`, `rtmp://`, `rtsp://`, `http(s)://`), reconnected with
/// exponential backoff when they fail or end, or files (a path, or `file:`), played at
/// real-time pace and looped for demos. Each (re)connection and each timestamp jump starts a new
/// epoch: an HLS discontinuity and a DASH Period.
package final class LiveChannel: Sendable {
    let name: String
    package let configuration: ChannelConfiguration
    package let window: Mutex<LiveWindow>
    package let statistics = Mutex(Statistics())
    private let stopFlag = InterruptFlag()
    private let logger: Logger
    package let metrics: ChannelMetrics
    /// The archive (`archive:`), and its real path for reading segments back.
    let archive: LiveArchive?
    package let archiveRoot: String?
    /// LL-HLS requests waiting for a part or segment.
    package let held = HeldRequests()
    /// Journal lines appended since the last compaction, and the size it had then.
    private let journalGrowth = Mutex((appended: 0, compacted: 0))

    /// Ingest state for the status page and the bit rate metric.
    package struct Statistics: Sendable {
        package var connected = false
        var bytesIngested = 0
        package var lastError: String?
        /// When and at which byte count the bit rate was last measured.
        var measuredAt: (time: Double, bytes: Int)?
        /// Seconds from reading the packet that completed a segment to the playlists listing
        /// it, for the last 1024 segments.
        package var listing = LatencyRing()
        /// Seconds from reading the packet that completed a part to the requests held for it
        /// being answered (LL-HLS), for the last 1024 parts.
        package var partAnswers = LatencyRing()
    }

    /// Longest wait between reconnection attempts, in seconds.
    static let maximumBackoff = 30.0

    /// - Parameter metrics: the channel's metrics, in the registry of whoever exposes them.
    /// - Throws: `LiveError` when the archive folder cannot be created or its journal rewritten.
    package init(name: String, configuration: ChannelConfiguration, metrics: ChannelMetrics, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "channel"] = "\(name)"
        self.logger = logger
        self.metrics = metrics
        var window = LiveWindow(name: name, segmentDuration: Self.time(configuration.segmentDuration), window: configuration.window,
                                formats: configuration.formats,
                                memoryHorizon: configuration.archive == nil ? nil : Self.archiveMemoryHorizon,
                                partTarget: configuration.partDuration.map(Self.time), mediaTimeline: configuration.epoch != nil)
        if let directory = configuration.archive {
            let archive = try LiveArchive(directory: directory, logger: logger)
            // The window as it was: segments from the archive, init segments into memory; then
            // the journal is compacted to what is still in the window.
            var segments = 0
            for record in archive.records() {
                var initBytes: [UInt8]?
                if case .initialization(let folder, let epoch, _) = record {
                    initBytes = archive.load(folder: folder, name: "init_\(epoch).mp4")
                }
                if case .segment = record { segments += 1 }
                window.replay(record, initBytes: initBytes)
            }
            archive.remove(window.finishReplay(now: UTCTime.now()))
            archive.removeUnreferenced(keep: window.referencedFiles)
            let records = window.records()
            try archive.rewrite(records)
            journalGrowth.withLock { $0.compacted = records.count }
            if segments > 0 {
                logger.info("window restored from the archive", metadata: ["archive": "\(directory)", "segments": "\(segments)"])
            }
            self.archive = archive
            archiveRoot = FileSystem.realPath(directory)
        } else {
            archive = nil
            archiveRoot = nil
        }
        self.window = Mutex(window)
    }

    /// With an archive, seconds back from the live edge whose segments stay in memory too.
    static let archiveMemoryHorizon = 60.0

    /// Writes to the archive (if any) on the ingest thread; a failure is logged, not fatal.
    /// Returns false when the write failed.
    @discardableResult
    private func archiving(_ what: String, _ work: (LiveArchive) throws -> Void) -> Bool {
        guard let archive else { return true }
        do { try work(archive) } catch {
            logger.error("archive: cannot store \(what)", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    /// Appends journal records; rewrites the journal from the window once it has grown to
    /// several times what the window holds.
    private func journal(_ records: [LiveArchive.Record]) {
        archiving("the journal") { archive in
            try archive.append(records)
            let due = journalGrowth.withLock { growth -> Bool in
                growth.appended += records.count
                return growth.appended > 2 * growth.compacted + 1000
            }
            guard due else { return }
            let state = window.withLock { $0.records() }
            try archive.rewrite(state)
            journalGrowth.withLock { $0 = (0, state.count) }
        }
    }

    var isFileInput: Bool { configuration.isFileInput }
    package var isPush: Bool { configuration.isPush }

    /// The current RTMP publisher's stream (push channels).
    private let publisher = Mutex<FLVPipe?>(nil)

    /// An RTMP publish with `key`: a pipe for its media when the key is the channel's and no
    /// one else is publishing.
    func acceptPublisher(key: String?) -> Result<FLVPipe, RTMPServer.Refusal> {
        guard let expected = configuration.key, let key,
              HMACSHA256.secretsMatch(Array(key.utf8), Array(expected.utf8)) else {
            return .failure(RTMPServer.Refusal(code: "NetStream.Publish.Denied", description: "wrong stream key for channel \(name)"))
        }
        return publisher.withLock { current in
            if let current, !current.isFinished {
                return .failure(RTMPServer.Refusal(code: "NetStream.Publish.BadName", description: "channel \(name) already has a publisher"))
            }
            let pipe = FLVPipe()
            current = pipe
            return .success(pipe)
        }
    }

    /// Waits (for push channels) until a publisher's stream is there; nil when stopped.
    private func waitForPublisher() -> FLVPipe? {
        while !stopFlag.isRaised {
            if let pipe = publisher.withLock({ $0 }), !pipe.isFinished { return pipe }
            var request = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&request, nil)
        }
        return nil
    }

    /// Stops `run()`: a blocked read or a backoff wait returns within a poll interval.
    package func stop() {
        stopFlag.interrupt()
        publisher.withLock { $0?.finish() }
    }

    /// Ingests until `stop()`: connects, segments, and after a failure or the end of the input
    /// waits 0.5 s, 1 s, 2 s… (at most 30 s; reset after a connection that lasted a minute).
    package func run() {
        // Held LL-HLS requests past their deadline are answered by this sweep.
        let sweep = MultiThreadedEventLoopGroup.singleton.next().scheduleRepeatedTask(initialDelay: .milliseconds(100),
                                                                                    delay: .milliseconds(100)) { [held] _ in held.expire() }
        defer {
            sweep.cancel()
            held.releaseAll()
        }
        var failures = 0
        while !stopFlag.isRaised {
            let started = UTCTime.now()
            do {
                try ingest()
                if !stopFlag.isRaised { logger.warning("input ended", metadata: ["input": "\(configuration.input)"]) }
            } catch {
                if stopFlag.isRaised { break }
                let message = "\(error)"
                logger.warning("input failed", metadata: ["input": "\(configuration.input)", "error": "\(message)"])
                statistics.withLock { $0.lastError = message }
            }
            statistics.withLock { $0.connected = false }
            if stopFlag.isRaised { break }
            // A push channel waits for its next publisher instead of reconnecting.
            if isPush { continue }
            if UTCTime.now() - started > 60 { failures = 0 }
            let delay = min(Self.maximumBackoff, 0.5 * Double(1 << min(failures, 10)))
            failures += 1
            metrics.reconnects.increment()
            logger.info("reconnecting", metadata: ["in-seconds": "\(delay)"])
            pause(until: UTCTime.now() + delay)
        }
    }

    // MARK: ingest

    private func ingest() throws {
        if isPush {
            guard let pipe = waitForPublisher() else { return }
            defer { pipe.finish() }
            let input: any PacketSource
            do {
                input = try published(pipe)
            } catch {
                throw LiveError(.input, "the publisher's stream cannot be read", reason: "\(error)", file: "rtmp://…/live/\(name)")
            }
            var encoder: EncoderSelection<HardwareDevice>?
            return try ingest(from: try transcoded(input, encoder: &encoder), path: nil, encoder: &encoder)
        }
        let path = configuration.input.hasPrefix("file:") ? String(configuration.input.dropFirst(5)) : configuration.input
        // A silent network input fails after 5 s instead of blocking forever: rw_timeout for
        // every protocol, and UDP's own timeout (its reader thread never reports a stall).
        var options = isFileInput ? [:] : ["rw_timeout": "5000000"]
        if path.hasPrefix("udp://") { options["timeout"] = "5000000" }
        // Chosen once per connection, not again at every loop of a file.
        var encoder: EncoderSelection<HardwareDevice>?
        try ingest(from: try open(path, options: options, encoder: &encoder), path: path, encoder: &encoder)
    }

    /// Segments `input` until it ends (a file input: loops, reopening `path`) or `stop()`.
    private func ingest(from opened: any PacketSource, path: String?, encoder: inout EncoderSelection<HardwareDevice>?) throws {
        var input = opened
        statistics.withLock { $0.connected = true; $0.lastError = nil }
        logger.info("input connected", metadata: ["input": "\(configuration.input)",
                                                  "tracks": "\(input.tracks.map(\.codec).joined(separator: ","))"])
        var epoch = try Session(input: input, channel: self)
        // Real-time pacing of file inputs, and the shift that places each loop after the last.
        var pace: (wall: Double, media: MediaTime)?
        var loopShift = MediaTime.zero(timescale: 1000)
        var loopStart: MediaTime?, loopEnd: MediaTime?
        let packet = Packet()
        var countedInput = 0
        let target = configuration.segmentDuration
        defer { epoch.finish() }
        while !stopFlag.isRaised {
            if try input.read(into: packet) == .endOfStream {
                guard isFileInput, let path, let start = loopStart, let end = loopEnd, end > start else { return }
                loopShift = loopShift + (end - start)
                loopStart = nil
                loopEnd = nil
                input = try open(path, options: [:], encoder: &encoder)
                countedInput = 0
                continue
            }
            // Ingest is what came in: behind a transcoder, the input's bytes, not the rungs'.
            let added = input.bytesRead - countedInput
            countedInput = input.bytesRead
            statistics.withLock { $0.bytesIngested += added }
            metrics.ingestBytes.increment(by: Int64(added))
            if isFileInput {
                guard let time = packet.dts ?? packet.pts else { continue }
                loopStart = min(loopStart ?? time, time)
                loopEnd = max(loopEnd ?? time, time + (packet.duration ?? .zero(timescale: 1)))
                shift(packet, by: loopShift)
                let shifted = time + loopShift
                if let pace {
                    pause(until: pace.wall + (shifted - pace.media).seconds)
                } else {
                    pace = (UTCTime.now(), shifted)
                }
            }
            // The channel timeline is the wall clock: an input running ahead of it (a burst, a
            // source faster than real time) is read no faster than real time, and one that fell
            // behind (a stall with continuous timestamps, a slow clock) starts a new epoch
            // anchored to the wall clock again, so DASH availability times stay true.
            // (A media timeline follows the input's timestamps whatever the wall clock says.)
            if configuration.epoch == nil, let time = epoch.packager.channelTime(of: packet) {
                let lead = time.seconds - UTCTime.now()
                if lead > target { pause(until: time.seconds - target) }
                if lead < -Self.maximumLag(target) {
                    logger.warning("input fell behind the wall clock: new epoch", metadata: ["seconds": "\(-lead)"])
                    epoch.finish()
                    epoch = try Session(input: input, channel: self)
                }
            }
            // When the packet is handed over (after the pacing wait of a file input).
            let readAt = UTCTime.now()
            if try epoch.push(packet, readAt: readAt) == .discontinuity {
                logger.warning("input timestamps jumped (or a track stopped): new epoch")
                epoch.finish()
                epoch = try Session(input: input, channel: self)
                _ = try epoch.push(packet, readAt: readAt)
            }
        }
    }

    /// Opens the input; with a `ladder:`, behind a transcoder re-encoding its video to the
    /// ladder (keyframes on the segment boundaries) and its audio to AAC when it must be.
    /// - Parameter encoder: the video encoder chosen for the ladder; chosen here when nil.
    private func open(_ path: String, options: [String: String],
                      encoder: inout EncoderSelection<HardwareDevice>?) throws -> any PacketSource {
        try transcoded(try MediaInput(url: path, options: options, interrupt: stopFlag), encoder: &encoder)
    }

    /// A publisher's stream: libavformat's FLV demuxer reads it, unless its video tags have
    /// Enhanced RTMP headers (HEVC, AV1), which `EnhancedRTMPSource` reads. The tags before
    /// the first video tag are looked at first, then given to whichever reads the stream.
    private func published(_ pipe: FLVPipe) throws -> any PacketSource {
        let reader = FLVTagReader(source: pipe)
        var read: [FLVTagReader.Tag] = []
        // Up to the first video tag, or a second of audio without one (audio only).
        var firstAudio: UInt32?
        while read.count < 1024, reader.count < 16 << 20, let tag = try reader.next() {
            read.append(tag)
            if tag.type == 9 { break }
            if tag.type == 8 {
                if let firstAudio, tag.timestamp &- firstAudio >= 1000 { break }
                firstAudio = firstAudio ?? tag.timestamp
            }
        }
        let name = "rtmp://…/live/\(name)"
        if let last = read.last, EnhancedRTMPSource.isEnhancedVideo(last) {
            return try EnhancedRTMPSource(reader: reader, read: read, name: name)
        }
        return try MediaInput(source: ReplayedByteSource(prefix: reader.recorded, rest: pipe), name: name, formatName: "flv")
    }

    /// The input itself, or with a `ladder:` a transcoder over it.
    private func transcoded(_ input: any PacketSource, encoder: inout EncoderSelection<HardwareDevice>?) throws -> any PacketSource {
        guard let ladder = configuration.ladder else { return input }
        let plan = TranscodePlan(tracks: input.tracks, mode: .auto, ladderRequested: true, cmaf: true)
        guard let index = plan.ladderTrack, let video = input.tracks.first(where: { $0.index == index }),
              let width = video.width, let height = video.height else {
            throw LiveError(.configuration, "the input has no video for the ladder", file: configuration.input)
        }
        let rungs = ladder.resolved(sourceWidth: width, sourceHeight: height, sampleAspectRatio: video.sampleAspectRatio).rungs
        let selection = try encoder ?? EncoderSelection<HardwareDevice>(choice: .auto, codec: rungs.first?.codec ?? "h264") { family, name throws(TranscodeError) in
            try EncoderProbe.open(family: family, encoderName: name)
        }
        encoder = selection
        logger.info("transcoding", metadata: ["ladder": "\(rungs.map { "\($0.width)x\($0.height)@\($0.bitRate / 1000)k" })",
                                              "encoder": "\(selection.log.last ?? "")"])
        return try TranscodingSource(input: input, plan: plan, rungs: rungs, family: selection.family, device: selection.device,
                                     decodeDevice: nil, segmentDuration: Self.time(configuration.segmentDuration), logger: logger)
    }

    private func shift(_ packet: Packet, by offset: MediaTime) {
        guard offset.value != 0 else { return }
        let ticks = offset.ticks(of: packet.timeBase)
        packet.ptsTicks = packet.ptsTicks.map { $0 + ticks }
        packet.dtsTicks = packet.dtsTicks.map { $0 + ticks }
    }

    /// Sleeps until a wall-clock time, waking every 100 ms to honour `stop()`.
    private func pause(until deadline: Double) {
        while !stopFlag.isRaised {
            let left = deadline - UTCTime.now()
            if left <= 0 { return }
            var request = timespec(tv_sec: 0, tv_nsec: Int(min(left, 0.1) * 1e9))
            nanosleep(&request, nil)
        }
    }

    /// Input bit rate since the previous call (once per segment of the first track).
    private func measureBitRate(now: Double) {
        let rate = statistics.withLock { stats -> Double? in
            defer { stats.measuredAt = (now, stats.bytesIngested) }
            guard let last = stats.measuredAt, now > last.time else { return nil }
            return Double(stats.bytesIngested - last.bytes) * 8 / (now - last.time)
        }
        if let rate { metrics.ingestBitRate.set(rate) }
    }

    /// How far the input may fall behind the wall clock before its epoch is re-anchored.
    static func maximumLag(_ target: Double) -> Double { max(4, 2 * target) }

    static func time(_ seconds: Double) -> MediaTime {
        MediaTime(value: Int64((seconds * 1000).rounded()), timescale: 1000)
    }

    /// One epoch: a packager over an open input, whose events go into the window.
    private struct Session {
        let packager: LivePackager
        let channel: LiveChannel
        var epoch: Int?

        init(input: any PacketSource, channel: LiveChannel) throws {
            packager = try LivePackager(input: input, segmentDuration: LiveChannel.time(channel.configuration.segmentDuration),
                                        transportStream: channel.configuration.formats.contains(.hlsTS),
                                        partDuration: channel.configuration.partDuration.map(LiveChannel.time))
            self.channel = channel
        }

        /// - Parameter readAt: when the packet was read, to measure the listing latency.
        mutating func push(_ packet: Packet, readAt: Double) throws -> LivePackager.PushResult {
            if !packager.hasOrigin {
                if let epoch = channel.configuration.epoch {
                    // Media timeline: the epoch plus the input's timestamps, never before what is
                    // published (the packager falls back to that minimum).
                    packager.mediaTimeline = LiveChannel.time(epoch)
                    packager.timelineOffset = channel.window.withLock { $0.nextEpochStart(now: 0) }
                } else {
                    packager.timelineOffset = channel.window.withLock { $0.nextEpochStart(now: UTCTime.now()) }
                }
            }
            let (result, events) = try packager.push(packet)
            if epoch == nil && packager.hasOrigin {
                let tracks = packager.tracks, variants = packager.transportVariants, start = packager.timelineOffset
                let (begun, renditions) = channel.window.withLock { window in
                    let begun = window.beginEpoch(tracks: tracks, transportVariants: variants, start: start, now: UTCTime.now())
                    let folders = begun.folders + begun.transportFolders.map(\.folder)
                    return (begun, folders.compactMap { folder in window.renditions[folder].map { (folder, $0) } })
                }
                channel.journal(renditions.map { folder, rendition in
                    .rendition(folder: folder, track: rendition.track, muxed: rendition.muxed, nextSequence: rendition.nextSequence,
                               discontinuitiesRemoved: rendition.discontinuitiesRemoved, targetDuration: nil, peakBitRate: nil)
                } + [.epoch(id: begun.id, startMilliseconds: begun.start.rescaled(to: 1000).value, folders: begun.folders,
                            transport: begun.transportFolders)])
                epoch = begun.id
                channel.logger.info("epoch started", metadata: ["epoch": "\(begun.id)", "at": "\(start.seconds)"])
            }
            publish(events, readAt: readAt)
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
                        let latency = UTCTime.now() - readAt
                        channel.statistics.withLock { $0.listing.record(latency) }
                    }
                    if segment.track == 0 { channel.measureBitRate(now: now) }
                case .transportSegment(let variant, let segment):
                    add(segment, folder: packager.transportVariants[variant].folder, epoch: epoch)
                case .part(let track, let part, let bytes):
                    let folder = packager.tracks[track].folder
                    let body = ByteBuffer(bytes: bytes), etag = LiveWindow.etag(bytes), now = UTCTime.now()
                    // The held requests are checked against a copy, outside the window's lock.
                    let published = channel.window.withLock { window in
                        window.addPart(folder: folder, epoch: epoch, part: part, body: body, etag: etag, now: now)
                        return window
                    }
                    channel.held.published(published)
                    if let readAt, track == 0 {
                        let latency = UTCTime.now() - readAt
                        channel.statistics.withLock { $0.partAnswers.record(latency) }
                    }
                }
            }
        }

        /// Publishes a segment into the window (its ETag made outside the lock); returns when.
        @discardableResult
        private func add(_ segment: LivePackager.Segment, folder: String, epoch: Int) -> Double {
            let body = ByteBuffer(bytes: segment.bytes), etag = LiveWindow.etag(segment.bytes)
            let now = UTCTime.now()
            let (removed, published) = channel.window.withLock { window in
                (window.addSegment(folder: folder, epoch: epoch, segment: segment, body: body, etag: etag, now: now), window)
            }
            channel.held.published(published)
            let rendition = published.renditions[folder]
            let stored = rendition?.segments.last, name = rendition.flatMap { r in r.segments.last.map(r.fileName) }
            channel.metrics.segments.increment()
            if let stored, let name, stored.start == segment.start {
                if !channel.archiving("a segment", { try $0.store(folder: folder, name: name, bytes: segment.bytes) }) {
                    // Not on disk: served from memory for as long as it is listed (journaled all
                    // the same, so the numbering survives a restart).
                    channel.window.withLock { $0.keepInMemory(folder: folder, sequence: stored.sequence) }
                }
                channel.journal([.segment(folder: folder, epoch: epoch, sequence: stored.sequence, start: stored.start,
                                          duration: stored.duration, timescale: segment.timescale, size: stored.size,
                                          etag: stored.etag, discontinuity: stored.discontinuity)])
            }
            channel.archive?.remove(removed)
            return now
        }
    }
}
