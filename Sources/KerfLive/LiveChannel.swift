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
    let stopFlag = InterruptFlag()
    let logger: Logger
    /// The wall clock the channel's timeline, pacing and reconnection follow.
    let clock: any WallClock
    /// Opens the input URL or file (libavformat; a test's own source).
    let inputs: InputOpener
    /// The RTMP publisher of a push channel.
    let publisher = PublisherSlot()
    package let metrics: ChannelMetrics
    /// The archive (`archive:`), and its real path for reading segments back.
    let archive: LiveArchive?
    package let archiveRoot: String?
    /// Wall-clock seconds of channel time 0 (see `timelineOrigin`).
    let origin: Double
    /// LL-HLS requests waiting for a part or segment.
    package let held = HeldRequests()
    /// Splices asked for and breaks running, and the splice points the ingest thread has still
    /// to give its packager.
    let splices: Mutex<LiveSplices>
    let splicePointChanges: Mutex<[SplicePointChange]>
    /// Archive writes failing since the last log line, and when that line was written (nil: the
    /// archive works).
    private let archiveFailures = Mutex((loggedAt: Double?.none, failing: 0))
    /// Journal lines appended since the last compaction, and the size it had then.
    private let journalGrowth = Mutex((appended: 0, compacted: 0))

    /// Ingest state for the status page and the bit rate metric.
    package struct Statistics: Sendable {
        package var connected = false
        /// Times the input connected (a push channel: publishers accepted).
        package var connections = 0
        /// Reconnection attempts after the input failed or ended (pull channels).
        package var reconnects = 0
        /// Input bit rate over the last measurement (bits per second).
        package var bitRate: Double?
        var bytesIngested = 0
        package var lastError: String?
        /// The channel time of the last video (else audio) sample taken: where "now" is for a splice.
        var ingestEdge: MediaTime?
        /// When and at which byte count the bit rate was last measured.
        var measuredAt: (time: Double, bytes: Int)?
        /// Seconds from reading the packet that completed a segment to the playlists listing
        /// it, for the last 1024 segments.
        package var listing = LatencyRing()
        /// Seconds from reading the packet that completed a part to the requests held for it
        /// being answered (LL-HLS), for the last 1024 parts.
        package var partAnswers = LatencyRing()
    }

    /// - Parameters:
    ///   - metrics: the channel's metrics, in the registry of whoever exposes them.
    ///   - clock: the wall clock (a `ManualClock` in tests).
    ///   - inputs: how the input is opened (libavformat unless a test gives its own).
    /// - Throws: `LiveError` when the archive folder cannot be created or its journal rewritten.
    package init(name: String, configuration: ChannelConfiguration, metrics: ChannelMetrics, logger: Logger,
                 clock: any WallClock = SystemClock(), inputs: InputOpener = .libavformat) throws {
        self.name = name
        self.clock = clock
        self.inputs = inputs
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "channel"] = "\(name)"
        self.logger = logger
        self.metrics = metrics
        let archive = try configuration.archive.map { try LiveArchive(directory: $0, logger: logger) }
        let journal = archive?.records() ?? []
        // The last record of the splices asked for and not cut yet.
        let pendingSplices = journal.reversed().lazy.compactMap { record -> [LiveSplices.Request]? in
            if case .pendingSplices(let requests) = record { requests } else { nil }
        }.first
        origin = Self.timelineOrigin(configuration, journal: journal, now: clock.now())
        var window = LiveWindow(name: name, segmentDuration: configuration.targetDuration,
                                window: MediaTime(seconds: configuration.window, timescale: 1000), formats: configuration.formats,
                                memoryHorizon: configuration.archive == nil ? nil : Self.archiveMemoryHorizon,
                                partTarget: configuration.partTarget, mediaTimeline: configuration.epoch != nil, origin: origin)
        window.dashTimeline = configuration.dashTimeline
        window.adMarkers = configuration.adMarkers
        window.dashEvents = configuration.dashEvents
        window.adPeriods = configuration.adPeriods
        if let archive, let directory = configuration.archive {
            // The window as it was: segments from the archive, init segments into memory; then
            // the journal is compacted to what is still in the window.
            var segments = 0
            for record in journal {
                var initBytes: [UInt8]?
                if case .initialization(let folder, let epoch, _) = record {
                    initBytes = archive.load(folder: folder, name: "init_\(epoch).mp4")
                }
                if case .segment = record { segments += 1 }
                window.replay(record, initBytes: initBytes)
            }
            archive.remove(window.finishReplay(now: clock.now()))
            archive.removeUnreferenced(keep: window.referencedFiles)
            let records = window.records() + (pendingSplices.map { [.pendingSplices($0)] } ?? [])
            try archive.rewrite(records)
            journalGrowth.withLock { $0.compacted = records.count }
            if segments > 0 {
                logger.info("window restored from the archive", metadata: ["archive": "\(directory)", "segments": "\(segments)"])
            }
            self.archive = archive
            archiveRoot = FileSystem.realPath(directory)
        } else {
            self.archive = nil
            archiveRoot = nil
        }
        // Breaks a restored window lists without an end return as planned; splices asked for
        // and not cut are asked for again.
        var restored = LiveSplices(firstEventID: UInt32(truncatingIfNeeded: Int64(clock.now())), open: window.presentation.markers)
        let taken = Set(window.presentation.markers.map(\.id))
        var points: [SplicePointChange] = []
        for request in pendingSplices ?? [] {
            if case .success(let accepted) = restored.request(request, taken: taken) {
                points.append(SplicePointChange(add: accepted.add, remove: accepted.remove))
            }
        }
        splices = Mutex(restored)
        splicePointChanges = Mutex(points)
        self.window = Mutex(window)
    }

    /// Channel time 0 on the wall clock: what the archive journal says (a restarted channel
    /// keeps its timeline; a journal written before origins were recorded is on Unix time),
    /// else `epoch:`, else the start of this run in whole seconds (`timeline: channel-start`)
    /// or 1970 (`timeline: unix`).
    static func timelineOrigin(_ configuration: ChannelConfiguration, journal: [LiveArchive.Record], now: Double) -> Double {
        for record in journal {
            switch record {
            case .origin(let seconds): return seconds
            case .epoch: return 0
            default: continue
            }
        }
        if let epoch = configuration.epoch { return epoch }
        switch configuration.effectiveTimeline {
        case .channelStart: return now.rounded(.down)
        case .unix: return 0
        }
    }

    /// With an archive, media back from the live edge whose segments stay in memory too.
    static let archiveMemoryHorizon = MediaTime(value: 60, timescale: 1)

    /// Renders the window's documents on a copy, outside the lock request threads take, installs
    /// them, and answers the requests held for what they publish. Called by the ingest thread
    /// only, so renderings never race.
    /// - Returns: when (wall clock) it was rendered.
    @discardableResult
    func publish(partsOnly: Bool = false) -> Double {
        let now = clock.now()
        let snapshot = window.withLock { $0 }
        guard let rendered = snapshot.rendered(now: now, partsOnly: partsOnly) else { return now }
        let published = window.withLock { window in
            window.install(rendered)
            return window
        }
        held.published(published)
        return now
    }

    /// Writes to the archive (if any) on the ingest thread; a failure is logged, not fatal.
    /// Returns false when the write failed. Failures are logged once a minute at most (a full
    /// disk fails every write), with the number of failures since the last line; archiving
    /// goes on by itself when writes succeed again, and catches up (`catchUp`).
    @discardableResult
    func archiving(_ what: String, _ work: (LiveArchive) throws -> Void) -> Bool {
        guard let archive else { return true }
        do {
            try work(archive)
            // Writing again after failures: it counts once what memory held is on disk too.
            if archiveFailures.withLock({ $0.loggedAt != nil }) {
                let restored = try catchUp(archive)
                archiveFailures.withLock { $0 = (nil, 0) }
                logger.notice("archive: writing again", metadata: ["restored files": "\(restored)"])
            }
        } catch {
            let now = clock.now()
            let failures = archiveFailures.withLock { state -> Int? in
                state.failing += 1
                guard now - (state.loggedAt ?? -.infinity) >= 60 else { return nil }
                defer { state.loggedAt = now; state.failing = 0 }
                return state.failing
            }
            if let failures {
                logger.error("archive: cannot store \(what); segments stay in memory while listed",
                             metadata: ["error": "\(error)", "failures": "\(failures)"])
            }
            return false
        }
        return true
    }

    /// Appends journal records; rewrites the journal from the window once it has grown to
    /// several times what the window holds.
    func journal(_ records: [LiveArchive.Record]) {
        archiving("the journal") { archive in
            try archive.append(records)
            let due = journalGrowth.withLock { growth -> Bool in
                growth.appended += records.count
                return growth.appended > 2 * growth.compacted + 1000
            }
            guard due else { return }
            let state = window.withLock { $0.records() } + [.pendingSplices(splices.withLock(\.pending))]
            try archive.rewrite(state)
            journalGrowth.withLock { $0 = (0, state.count) }
        }
    }

    var isFileInput: Bool { configuration.isFileInput }
    package var isPush: Bool { configuration.isPush }

    /// An RTMP publish with `key`: a pipe for its media when the key is the channel's and no
    /// one else is publishing.
    func acceptPublisher(key: String?) -> Result<FLVPipe, RTMPServer.Refusal> {
        publisher.accept(key: key, expected: configuration.key, channel: name)
    }

    /// Stops `run()`: a blocked read or a backoff wait returns within a poll interval.
    package func stop() {
        stopFlag.interrupt()
        publisher.finish()
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
        var backoff = ReconnectBackoff()
        while !stopFlag.isRaised {
            let started = clock.now()
            do {
                try ingest()
                if !stopFlag.isRaised { logger.warning("input ended", metadata: ["input": "\(configuration.input)"]) }
            } catch {
                if stopFlag.isRaised { break }
                let message = "\(error)"
                logger.warning("input failed", metadata: ["input": "\(configuration.input)", "error": "\(message)"])
                statistics.withLock { $0.lastError = message }
            }
            statistics.withLock { $0.connected = false; $0.ingestEdge = nil }
            if stopFlag.isRaised { break }
            // A push channel waits for its next publisher instead of reconnecting.
            if isPush { continue }
            let delay = backoff.ended(after: clock.now() - started)
            metrics.reconnects.increment()
            statistics.withLock { $0.reconnects += 1 }
            logger.info("reconnecting", metadata: ["in-seconds": "\(delay)"])
            pause(until: clock.now() + delay)
        }
    }

    /// Input bit rate since the previous call (once per segment of the first track).
    func measureBitRate(now: Double) {
        let rate = statistics.withLock { stats -> Double? in
            defer { stats.measuredAt = (now, stats.bytesIngested) }
            guard let last = stats.measuredAt, now > last.time else { return nil }
            let rate = Double(stats.bytesIngested - last.bytes) * 8 / (now - last.time)
            stats.bitRate = rate
            return rate
        }
        if let rate { metrics.ingestBitRate.set(rate) }
    }

    /// How far the input may fall behind the wall clock before its epoch is re-anchored.
    static func maximumLag(_ target: Double) -> Double { max(4, 2 * target) }
}
