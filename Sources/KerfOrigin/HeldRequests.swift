import Synchronization

/// Requests of one live channel held until what they ask for is published (LL-HLS blocking
/// playlist reload, a preload-hinted part). Each is one entry here, no thread: most are parked
/// on their connection's event loop by a `HeldRequestGate` (a few hundred bytes each), the rest
/// wait as a suspended task. A publication answers every request it satisfies at once, and a
/// periodic sweep answers the ones whose deadline passed.
final class HeldRequests: Sendable {
    private struct Waiter {
        let deadline: ContinuousClock.Instant
        let isReady: @Sendable (borrowing LiveWindow) -> Bool
        /// Called once: true when ready, false at the deadline or when the channel stops.
        let resume: @Sendable (Bool) -> Void
    }

    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let nextID = Atomic<UInt64>(0)

    var count: Int { waiters.withLock { $0.count } }

    /// Waits until `isReady` holds for the window (true) or `deadline` passes (false).
    func wait(for window: borrowing Mutex<LiveWindow>, until deadline: ContinuousClock.Instant,
              _ isReady: @escaping @Sendable (borrowing LiveWindow) -> Bool) async -> Bool {
        if window.withLock({ isReady($0) }) { return true }
        return await withCheckedContinuation { continuation in
            let id = hold(for: window, until: deadline, isReady) { continuation.resume(returning: $0) }
            if id == nil { continuation.resume(returning: true) }
        }
    }

    /// Registers `resume` to be called once `isReady` holds (true) or `deadline` passes or the
    /// channel stops (false). Nil, and `resume` is never called, when the window is ready
    /// already; else the id that `cancel` takes.
    func hold(for window: borrowing Mutex<LiveWindow>, until deadline: ContinuousClock.Instant,
              _ isReady: @escaping @Sendable (borrowing LiveWindow) -> Bool,
              resume: @escaping @Sendable (Bool) -> Void) -> UInt64? {
        if window.withLock({ isReady($0) }) { return nil }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        waiters.withLock { $0[id] = Waiter(deadline: deadline, isReady: isReady, resume: resume) }
        // Published between the first look and the registration: answer now.
        if window.withLock({ isReady($0) }) { self.resume(id, true) }
        return id
    }

    /// Forgets a held request without answering it (its client went away).
    func cancel(_ id: UInt64) {
        _ = waiters.withLock { $0.removeValue(forKey: id) }
    }

    /// After a publication (called with the window's new state, under its lock): answers the
    /// requests it satisfies.
    func published(_ window: borrowing LiveWindow) {
        let ready = waiters.withLock { waiters -> [Waiter] in
            guard !waiters.isEmpty else { return [] }
            var ready: [Waiter] = []
            for (id, waiter) in waiters where waiter.isReady(window) {
                ready.append(waiter)
                waiters[id] = nil
            }
            return ready
        }
        for waiter in ready { waiter.resume(true) }
    }

    /// Answers the requests whose deadline has passed (false).
    func expire(now: ContinuousClock.Instant = .now) {
        let late = waiters.withLock { waiters -> [Waiter] in
            var late: [Waiter] = []
            for (id, waiter) in waiters where waiter.deadline <= now {
                late.append(waiter)
                waiters[id] = nil
            }
            return late
        }
        for waiter in late { waiter.resume(false) }
    }

    /// Answers every held request (false): the channel stops.
    func releaseAll() {
        let all = waiters.withLock { waiters -> [Waiter] in
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in all { waiter.resume(false) }
    }

    private func resume(_ id: UInt64, _ value: Bool) {
        if let waiter = waiters.withLock({ $0.removeValue(forKey: id) }) { waiter.resume(value) }
    }
}
