import Synchronization

/// A bounded pool of reusable `Frame` objects.
///
/// `acquire()` hands out an empty frame, allocating only when the pool is empty; `release(_:)`
/// drops the frame's data references and keeps the object for the next `acquire()`, up to
/// `capacity` objects. Safe to use from several tasks.
public final class FramePool: Sendable {
    public let capacity: Int
    private let frames: Mutex<[UnsafeTransfer<Frame>]>

    public init(capacity: Int = 16) {
        self.capacity = capacity
        self.frames = Mutex([])
    }

    /// An empty frame, reused when one is available.
    public func acquire() -> Frame {
        if let reused = frames.withLock({ $0.popLast() }) { return reused.value }
        return Frame()
    }

    /// Returns `frame` to the pool after unreferencing its data. The caller must not use it again.
    public func release(_ frame: Frame) {
        frame.unref()
        let transfer = UnsafeTransfer(frame)
        frames.withLock { pool in
            if pool.count < capacity { pool.append(transfer) }
        }
    }

    /// Frames currently waiting in the pool.
    public var pooledCount: Int { frames.withLock { $0.count } }
}

/// Carries a non-Sendable object across an isolation boundary when the code guarantees that
/// only one owner touches it at a time (the pool's frames are unreferenced and unshared).
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
