import KerfCore
import KerfMedia
import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Decodes one video stream once and feeds every rung of a ladder.
///
/// Runs on the reading thread: decode (on a GPU when one was found, pictures then downloaded),
/// decide keyframes (`KeyframeSchedule`), and hand each picture by reference to the rungs
/// scaled from the source; larger rungs hand their scaled pictures on to smaller ones
/// (1080p → 720p → 480p). Each rung encodes on its own thread behind a bounded queue.
final class VideoLadder {
    let source: TrackInfo
    let rungs: [RungEncoder]
    /// Rungs fed directly with decoded pictures.
    private let roots: [RungEncoder]
    private let decoder: Decoder
    private var schedule: KeyframeSchedule
    private let pool: FramePool
    private let decoded = Frame()
    private let threads: NIOThreadPool
    private var lastPTS: Int64?
    /// Deinterlacing, for interlaced sources: created at the first picture (its format is known).
    private var deinterlace: Bool { source.fieldOrder?.isInterlaced == true }
    private var deinterlacer: VideoFilter?
    private let filtered = Frame()
    /// The libavfilter chain that turns each interlaced picture into one progressive picture.
    static let deinterlaceFilter = "bwdif=mode=send_frame:parity=auto:deint=all"
    private(set) var errors = DecodeErrors()
    private let logger: Logger
    private let file: String

    /// - Parameters:
    ///   - tracks: output track number of each rung.
    ///   - device: the GPU device encoders run on; `decodeDevice` the one decoding runs on.
    init(source: TrackInfo, parameters: CodecParameters, rungs resolved: [Ladder.ResolvedRung], tracks: [Int],
         family: EncoderFamily, device: HardwareDevice?, decodeDevice: HardwareDevice?, segmentDuration: MediaTime,
         splicePoints: [MediaTime] = [], collector: PacketCollector, threadsPerEncoder: Int, file: String, logger: Logger) throws {
        self.source = source
        self.logger = logger
        self.file = file
        decoder = try Decoder(parameters: parameters, timeBase: source.timeBase, hardware: decodeDevice,
                              threads: Self.decoderThreads(), subject: file)
        try decoder.open()
        schedule = KeyframeSchedule(target: segmentDuration, splicePoints: splicePoints)
        let pool = FramePool(capacity: 64)
        self.pool = pool
        let frameRate = source.frameRate ?? Rational(25, 1)
        let framesPerSegment = Int((segmentDuration.seconds * frameRate.doubleValue).rounded(.up))
        let encoderThreads = threadsPerEncoder > 0 ? resolved.map { _ in threadsPerEncoder } : Self.threadShares(resolved)
        var built: [RungEncoder] = []
        for (index, (rung, track)) in zip(resolved, tracks).enumerated() {
            let configuration = EncoderConfiguration(family: family, threads: encoderThreads[index])
            let settings = configuration.settings(for: rung, timeBase: source.timeBase, frameRate: frameRate,
                                                  gopSize: max(2 * framesPerSegment, 2))
            let uploads = try family.needsUpload ? device.map { try HardwareFrames(device: $0, width: rung.width, height: rung.height) } : nil
            let encoder = try Encoder(settings: settings, hardware: device, frames: uploads)
            do { try encoder.open() } catch {
                throw TranscodeError(.encoderUnavailable, "cannot open \(settings.codecName) for the \(rung.name) rung",
                                     reason: error.cause.isEmpty ? error.summary : error.cause)
            }
            // The largest already-built rung at least as big as this one is the cheapest source.
            let parent = built.last { $0.rung.width >= rung.width && $0.rung.height >= rung.height }
            // Pictures already of the rung's size and format pass through (checked per picture:
            // GPU decoding, a size change mid-stream or a non-square source need scaling).
            let scaler = try Scaler(width: rung.width, height: rung.height, pixelFormat: family.softwarePixelFormat,
                                    algorithm: .bilinear, sampleAspectRatio: Rational(1, 1))
            let worker = RungEncoder(track: track, rung: rung, encoder: encoder, scaler: scaler, uploads: uploads,
                                     collector: collector, pool: pool)
            parent?.cascade.append(worker)
            built.append(worker)
        }
        rungs = built
        roots = built.filter { rung in !built.contains { $0.cascade.contains { $0 === rung } } }
        threads = NIOThreadPool(numberOfThreads: built.count)
        threads.start()
        for rung in built {
            threads.submit { state in
                // A pool shut down before the job started hands it over as cancelled.
                guard state == .active else { return rung.abandon() }
                rung.run()
            }
        }
    }

    /// Encoder threads per rung when not fixed: the machine's cores shared in proportion to
    /// each rung's pixels (the rungs encode in parallel, so frame threads inside every encoder
    /// would only add memory and synchronisation), at least one each.
    static func threadShares(_ rungs: [Ladder.ResolvedRung], cores: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) -> [Int] {
        let pixels = rungs.map { Double($0.width * $0.height) }
        let total = pixels.reduce(0, +)
        guard total > 0 else { return rungs.map { _ in 1 } }
        return pixels.map { max(1, Int((Double(max(cores, 1)) * 1.5 * $0 / total).rounded())) }
    }

    /// Decoding threads: a quarter of the cores, at least one. Decoding is a small part of a
    /// ladder's work next to the encoders', which keep the cores busy; frame threads beyond
    /// that only add pictures in flight and hand-offs.
    static func decoderThreads(cores: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) -> Int {
        max(1, cores / 4)
    }

    /// Decodes one packet and feeds its pictures to the rungs (blocking while their queues are
    /// full). Corrupt packets are counted and skipped.
    func decode(_ packet: Packet) throws {
        while try skippingCorrupt({ () throws(MediaError) in try decoder.send(packet) }) == .tryAgain {
            try receivePictures()
        }
        try receivePictures()
    }

    /// Drains the decoder and closes the rungs' queues; the rungs finish on their threads.
    func finish() throws {
        _ = try skippingCorrupt { () throws(MediaError) in try decoder.drain() }
        try receivePictures()
        if let deinterlacer {
            try deinterlacer.drain()
            try receiveFiltered()
        }
        for rung in roots { rung.input.close() }
        if errors.decoded == 0 {
            throw TranscodeError(.undecodable, "video stream \(source.index) (\(source.codec)) cannot be decoded",
                                 reason: errors.first ?? "no picture came out of the decoder", file: file)
        }
    }

    /// Stops every rung (after a failure elsewhere) and waits for their threads.
    func cancel() {
        for rung in rungs { rung.input.cancel() }
    }

    /// Waits for the rung threads to end.
    func join() {
        try? threads.syncShutdownGracefully()
    }

    /// A decoder call whose corrupt-data errors are counted, logged and skipped (`nil`).
    private func skippingCorrupt<T>(_ body: () throws(MediaError) -> T) throws(MediaError) -> T? {
        let before = errors.count
        let result = try errors.skippingCorrupt(body)
        if errors.count != before && (errors.count == 1 || errors.count % 100 == 0) {
            logger.warning("\(file): skipping corrupt video data (\(errors.count) so far): \(errors.first ?? "")")
        }
        return result
    }

    private func receivePictures() throws {
        var failures = 0
        while true {
            guard let result = try skippingCorrupt({ () throws(MediaError) in try decoder.receive(into: decoded) }) else {
                failures += 1
                if failures > 64 { return }
                continue
            }
            guard result == .output else { return }
            try deliver(decoded)
        }
    }

    private func deliver(_ frame: Frame) throws {
        guard let pts = frame.bestEffortTicks ?? frame.ptsTicks else { return }
        // Encoders need strictly increasing timestamps: repeated or backward pictures are dropped.
        if let lastPTS, pts <= lastPTS { return }
        lastPTS = pts
        errors.decoded += 1
        frame.ptsTicks = pts
        let picture = pool.acquire()
        if frame.isHardwareFrame {
            try frame.download(into: picture)
        } else {
            try frame.reference(into: picture)
        }
        guard deinterlace else { return try dispatch(picture) }
        if deinterlacer == nil {
            deinterlacer = try VideoFilter(description: Self.deinterlaceFilter, width: picture.width, height: picture.height,
                                           pixelFormat: picture.formatName ?? "yuv420p", timeBase: source.timeBase,
                                           sampleAspectRatio: picture.sampleAspectRatio)
            logger.info("\(file): deinterlacing with \(Self.deinterlaceFilter)")
        }
        try deinterlacer?.send(picture)
        pool.release(picture)
        try receiveFiltered()
    }

    private func receiveFiltered() throws {
        guard let deinterlacer else { return }
        while try deinterlacer.receive(into: filtered) == .output {
            let picture = pool.acquire()
            try filtered.reference(into: picture)
            filtered.unref()
            try dispatch(picture)
        }
    }

    /// Codes the first picture at or after `time` (the source's timeline) as a keyframe.
    func forceKeyframe(at time: MediaTime) {
        schedule.addSplicePoint(at: time)
    }

    /// Decides whether `picture` is a keyframe and hands it to the rungs (consumes `picture`).
    private func dispatch(_ picture: Frame) throws {
        guard let pts = picture.ptsTicks else { return pool.release(picture) }
        let keyframe = schedule.isKeyframe(at: MediaTime(value: pts, timeBase: source.timeBase))
        for (index, rung) in roots.enumerated() {
            let work: Frame
            if index == roots.count - 1 {
                work = picture
            } else {
                work = pool.acquire()
                try picture.reference(into: work)
            }
            if !rung.input.push(RungEncoder.Work(frame: work, keyframe: keyframe)) {
                pool.release(work)
            }
        }
    }
}
