import Synchronization

/// Counts of media objects currently alive, for leak tests: every `Packet`, `Frame`,
/// codec context and format context increments its counter when created and decrements it in
/// `deinit`. After a job's objects are released, each count must return to what it was.
public enum LiveObjects {
    static let packetCount = Atomic<Int>(0)
    static let frameCount = Atomic<Int>(0)
    static let contextCount = Atomic<Int>(0)

    public static var packets: Int { packetCount.load(ordering: .relaxed) }
    public static var frames: Int { frameCount.load(ordering: .relaxed) }
    /// Codec, format, I/O and hardware contexts.
    public static var contexts: Int { contextCount.load(ordering: .relaxed) }
    public static var total: Int { packets + frames + contexts }
}
