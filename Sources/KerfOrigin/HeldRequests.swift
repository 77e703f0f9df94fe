import Synchronization

/// Requests of one live channel held until what they ask for is published (LL-HLS blocking
/// playlist reload, a preload-hinted part). Each costs a suspended task and one entry here, no
/// thread; a publication answers every request it satisfies at once, and a periodic sweep
/// answers the ones whose deadline passed.
final class HeldRequests: Sendable {
    private struct Waiter {
        let deadline: ContinuousClock.Instant
        let isReady: @Sendable (borrowing LiveWindow) -> Bool
        let continuation: CheckedContinuation<Bool, Never>
    }

    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let nextID = Atomic<UInt64>(0)

    var count: Int { waiters.withLock { $0.count } }

    /// Waits until `isReady` holds for the window (true) or `deadline` passes (false).
    func wait(for window: borrowing Mutex<LiveWindow>, until deadline: ContinuousClock.Instant,
              _ isReady: @escaping @Sendable (borrowing LiveWindow) -> Bool) async -> Bool {
        if window.withLock({ isReady($0) }) { return true }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        return await withCheckedContinuation { continuation in
            waiters.withLock { $0[id] = Waiter(deadline: deadline, isReady: isReady, continuation: continuation) }
            // Published between the first look and the registration: answer now.
            if window.withLock({ isReady($0) }) { resume(id, true) }
        }
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
        for waiter in ready { waiter.continuation.resume(returning: true) }
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
        for waiter in late { waiter.continuation.resume(returning: false) }
    }

    /// Answers every held request (false): the channel stops.
    func releaseAll() {
        let all = waiters.withLock { waiters -> [Waiter] in
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in all { waiter.continuation.resume(returning: false) }
    }

    private func resume(_ id: UInt64, _ value: Bool) {
        if let waiter = waiters.withLock({ $0.removeValue(forKey: id) }) { waiter.continuation.resume(returning: value) }
    }
}
