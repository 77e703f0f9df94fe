import KerfCore
import KerfMedia
#if canImport(Glibc)
import Glibc
#endif

/// One rung of a ladder on its own thread: takes decoded pictures from a bounded queue, scales
/// them to the rung's size (from the source, or from a larger rung's already scaled picture),
/// hands its picture on to the rungs cascading from it, encodes, and appends the packets to the
/// collector.
final class RungEncoder: @unchecked Sendable {
    /// A picture to encode and whether it must be a keyframe.
    struct Work {
        let frame: Frame
        let keyframe: Bool
    }

    let track: Int
    let rung: Ladder.ResolvedRung
    let encoder: Encoder
    let input: BoundedQueue<Work>
    /// Rungs scaled from this rung's pictures instead of the source's.
    var cascade: [RungEncoder] = []
    private let scaler: Scaler
    private let uploads: HardwareFrames?
    private let collector: PacketCollector
    private let pool: FramePool
    /// Pictures encoded, and the thread CPU time spent scaling and encoding them.
    private(set) var frames = 0
    private(set) var busySeconds = 0.0

    init(track: Int, rung: Ladder.ResolvedRung, encoder: Encoder, scaler: Scaler, uploads: HardwareFrames?,
         collector: PacketCollector, pool: FramePool, queueCapacity: Int = 2) {
        self.track = track
        self.rung = rung
        self.encoder = encoder
        self.scaler = scaler
        self.uploads = uploads
        self.collector = collector
        self.pool = pool
        self.input = BoundedQueue(capacity: queueCapacity)
    }

    /// The thread body: runs until the input queue is closed and drained, or fails.
    func run() {
        let started = Self.threadCPUTime()
        defer { busySeconds = Self.threadCPUTime() - started }
        do {
            while let work = input.pop() {
                try encode(work)
            }
            for rung in cascade { rung.input.close() }
            // Torn down after a failure elsewhere: nothing will read the remaining packets.
            guard !input.isCancelled else { return abandon() }
            try encoder.drain()
            try collector.collect(from: encoder, track: track)
            encoder.close()
            collector.finish(track: track)
        } catch {
            collector.fail(TranscodeError(.failed, "cannot encode the \(rung.name) rung", reason: "\(error)"))
            input.cancel()
            for rung in cascade { rung.input.cancel() }
            encoder.close()
        }
    }

    /// Gives up without encoding (the job was cancelled): frees the encoder, stops the cascade.
    func abandon() {
        input.cancel()
        for rung in cascade { rung.input.cancel() }
        encoder.close()
    }

    private func encode(_ work: Work) throws {
        var picture = work.frame
        if !scaler.accepts(picture) {
            let scaled = pool.acquire()
            try scaler.scale(work.frame, into: scaled)
            pool.release(work.frame)
            picture = scaled
        }
        for rung in cascade {
            let copy = pool.acquire()
            try picture.reference(into: copy)
            if !rung.input.push(Work(frame: copy, keyframe: work.keyframe)) { pool.release(copy) }
        }
        // Decoded pictures carry the source's picture types: only Kerf's decision counts.
        picture.forcesKeyframe = work.keyframe
        if let uploads {
            let onDevice = pool.acquire()
            try uploads.upload(picture, into: onDevice)
            pool.release(picture)
            picture = onDevice
        }
        while try encoder.send(picture) == .tryAgain {
            try collector.collect(from: encoder, track: track)
        }
        pool.release(picture)
        frames += 1
        try collector.collect(from: encoder, track: track)
    }

    /// CPU time consumed by the calling thread, in seconds.
    static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
