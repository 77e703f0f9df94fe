#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Wall-clock time and waiting, injected wherever a rule depends on the time of day (live
/// channels: epochs anchored to the clock, pacing, stalls, reconnection, availability), so
/// those rules are tested with a `ManualClock` instead of in real time. Time is seconds since
/// 1970-01-01T00:00:00Z.
public protocol WallClock: Sendable {
    func now() -> Double
    /// Returns at `deadline`, or earlier once `stop()` is true (checked at least every 100 ms).
    func sleep(until deadline: Double, stop: () -> Bool)
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Double { UTCTime.now() }

    public func sleep(until deadline: Double, stop: () -> Bool) {
        while !stop() {
            let left = deadline - UTCTime.now()
            if left <= 0 { return }
            var request = timespec(tv_sec: 0, tv_nsec: Int(min(left, 0.1) * 1e9))
            nanosleep(&request, nil)
        }
    }
}

/// A clock that moves only when told to, or when someone sleeps on it (the sleeper's deadline
/// becomes the time at once): real-time rules run as fast as the code allows, deterministically.
public final class ManualClock: WallClock {
    private let time: Mutex<Double>

    public init(_ start: Double) {
        time = Mutex(start)
    }

    public func now() -> Double { time.withLock { $0 } }

    /// Moves the clock forward by `seconds` (never back).
    public func advance(by seconds: Double) {
        time.withLock { $0 += max(0, seconds) }
    }

    public func sleep(until deadline: Double, stop: () -> Bool) {
        guard !stop() else { return }
        time.withLock { $0 = max($0, deadline) }
    }
}
