import NIOCore
import Synchronization

/// Requests of one live channel held until what they ask for is published (LL-HLS blocking
/// playlist reload, a preload-hinted part, the chunks of an LL-DASH segment). Each is one entry
/// here, no thread: most are parked on their connection's event loop by a `HeldRequestGate` (a
/// few hundred bytes each), the rest wait as a suspended task. A publication answers every
/// request it satisfies at once (each distinct condition checked once, one hand-over per event
/// loop), and a periodic sweep answers the ones whose deadline passed.
package final class HeldRequests: Sendable {
    /// What a held request waits for.
    package enum Condition: Hashable, Sendable {
        /// Segment `sequence` of a rendition, or its part `part`, is published (blocking reload).
        case published(folder: String, sequence: UInt64, part: Int?)
        /// Part `index` of the segment that starts at `segmentStart` exists, or that segment
        /// has ended without it.
        case part(folder: String, segmentStart: Int64, index: Int)

        package func isMet(in window: borrowing LiveWindow) -> Bool {
            switch self {
            case .published(let folder, let sequence, let part):
                return window.hasPublished(folder: folder, sequence: sequence, part: part)
            case .part(let folder, let start, let index):
                return window.part(folder: folder, segmentStart: start, index: index) != nil || window.segment(folder: folder, start: start) != nil
            }
        }
    }

    private struct Waiter {
        let deadline: ContinuousClock.Instant
        /// Called once: true when met, false at the deadline or when the channel stops.
        let resume: @Sendable (Bool) -> Void
    }

    /// The waiters of one condition on one event loop (nil: resumed on any thread), in the
    /// order they were held: a publication hands them over in that order without sorting.
    private struct Group {
        let loop: (any EventLoop)?
        /// Oldest first (ids rising); one taken back leaves a hole, until holes are the most.
        private var entries: [(id: UInt64, waiter: Waiter?)] = []
        /// Where each waiter still held is in `entries`.
        private var positions: [UInt64: Int] = [:]

        init(loop: (any EventLoop)?) {
            self.loop = loop
        }

        var count: Int { positions.count }

        /// The waiters, oldest first.
        var waiters: [(id: UInt64, waiter: Waiter)] {
            entries.compactMap { entry in entry.waiter.map { (entry.id, $0) } }
        }

        /// Adds a waiter held after all the others.
        mutating func append(_ id: UInt64, _ waiter: Waiter) {
            positions[id] = entries.count
            entries.append((id, waiter))
        }

        mutating func remove(_ id: UInt64) -> Waiter? {
            guard let position = positions.removeValue(forKey: id) else { return nil }
            let waiter = entries[position].waiter
            entries[position].waiter = nil
            if positions.isEmpty {
                entries.removeAll()
            } else if entries.count >= 64, positions.count * 2 < entries.count {
                entries.removeAll { $0.waiter == nil }
                for (position, entry) in entries.enumerated() { positions[entry.id] = position }
            }
            return waiter
        }

        /// Takes out the waiters whose deadline has passed, oldest first.
        mutating func removeExpired(at now: ContinuousClock.Instant) -> Group {
            var expired = Group(loop: loop)
            for entry in entries {
                guard let waiter = entry.waiter, waiter.deadline <= now else { continue }
                expired.append(entry.id, waiter)
            }
            for entry in expired.entries { _ = remove(entry.id) }
            return expired
        }
    }

    /// A hold's place, which `cancel` takes.
    package struct Ticket: Sendable {
        let id: UInt64
        let condition: Condition
        let loop: ObjectIdentifier?
    }

    /// Waiters by condition, then by event loop: a publication checks each condition once and
    /// hands each loop its whole group. Ids are given under the lock, so they rise in the order
    /// of holding.
    private let waiters = Mutex<(groups: [Condition: [ObjectIdentifier?: Group]], count: Int, lastID: UInt64)>(([:], 0, 0))

    package var count: Int { waiters.withLock { $0.count } }

    /// The publications that released held requests, latest last (at most 1,024).
    private let releases = Mutex<[Release]>([])

    /// A publication's hand-over: how many held requests it released and how long after it
    /// the last event loop's burst ended (answers written there by then; requests waiting in
    /// a task, without a loop, only resumed).
    package struct Release: Sendable, Equatable {
        package let requests: Int
        package let seconds: Double
    }

    /// The release of the most requests among the last 1,024 (the latest of equals): how long
    /// the largest recent fan-out took. Nil before any.
    package var largestRecentRelease: Release? {
        releases.withLock { releases in
            releases.reduce(nil) { best, release in best.map { release.requests >= $0.requests ? release : $0 } ?? release }
        }
    }

    /// Waits until `condition` is met in the window (true) or `deadline` passes (false).
    package func wait(for window: borrowing Mutex<LiveWindow>, until deadline: ContinuousClock.Instant, _ condition: Condition) async -> Bool {
        await withCheckedContinuation { continuation in
            let ticket = register(window, condition, nil, Waiter(deadline: deadline) { continuation.resume(returning: $0) })
            if ticket == nil { continuation.resume(returning: true) }
        }
    }

    /// Registers `resume` to run on `loop` once `condition` is met (true) or `deadline` passes
    /// or the channel stops (false). Nil, and `resume` never runs, when the condition is met
    /// already; else the ticket that `cancel` takes.
    package func hold(for window: borrowing Mutex<LiveWindow>, until deadline: ContinuousClock.Instant, _ condition: Condition,
              on loop: any EventLoop, resume: @escaping @Sendable (Bool) -> Void) -> Ticket? {
        register(window, condition, loop, Waiter(deadline: deadline, resume: resume))
    }

    private func register(_ window: borrowing Mutex<LiveWindow>, _ condition: Condition, _ loop: (any EventLoop)?,
                          _ waiter: Waiter) -> Ticket? {
        if window.withLock({ condition.isMet(in: $0) }) { return nil }
        let ticket = waiters.withLock { state in
            state.lastID += 1
            let ticket = Ticket(id: state.lastID, condition: condition, loop: loop.map { ObjectIdentifier($0) })
            state.groups[condition, default: [:]][ticket.loop, default: Group(loop: loop)].append(ticket.id, waiter)
            state.count += 1
            return ticket
        }
        // Published between the first look and the registration: answer now.
        if window.withLock({ condition.isMet(in: $0) }), let registered = take(ticket) {
            var group = Group(loop: loop)
            group.append(ticket.id, registered)
            Self.deliver([group], true)
        }
        return ticket
    }

    /// Forgets a held request without answering it (its client went away).
    package func cancel(_ ticket: Ticket) {
        _ = take(ticket)
    }

    private func take(_ ticket: Ticket) -> Waiter? {
        waiters.withLock { state in
            guard let waiter = state.groups[ticket.condition]?[ticket.loop]?.remove(ticket.id) else { return nil }
            state.count -= 1
            if state.groups[ticket.condition]?[ticket.loop]?.count == 0 {
                state.groups[ticket.condition]?[ticket.loop] = nil
                if state.groups[ticket.condition]?.isEmpty == true { state.groups[ticket.condition] = nil }
            }
            return waiter
        }
    }

    /// After a publication (with the window's new state): answers the requests it satisfies.
    func published(_ window: borrowing LiveWindow) {
        let ready = waiters.withLock { state -> [Group] in
            guard state.count > 0 else { return [] }
            var ready: [Group] = []
            for condition in Array(state.groups.keys) where condition.isMet(in: window) {
                for group in state.groups.removeValue(forKey: condition)!.values {
                    state.count -= group.count
                    ready.append(group)
                }
            }
            return ready
        }
        guard !ready.isEmpty else { return }
        let loops = Set(ready.map { $0.loop.map(ObjectIdentifier.init) }).count
        let timing = ReleaseTiming(requests: ready.reduce(0) { $0 + $1.count }, groups: loops) { [self] release in
            self.releases.withLock { releases in
                if releases.count == 1024 { releases.removeFirst() }
                releases.append(release)
            }
        }
        Self.deliver(ready, true, timing: timing)
    }

    /// Answers the requests whose deadline has passed (false).
    func expire(now: ContinuousClock.Instant = .now) {
        let late = waiters.withLock { state -> [Group] in
            guard state.count > 0 else { return [] }
            var late: [Group] = []
            // By keys, so no copy of the groups is held while they change (each is changed in
            // place, and left alone when none of its waiters expired).
            for condition in Array(state.groups.keys) {
                for key in Array(state.groups[condition]!.keys) {
                    let expired = state.groups[condition]![key]!.removeExpired(at: now)
                    guard expired.count > 0 else { continue }
                    if state.groups[condition]![key]!.count == 0 { state.groups[condition]![key] = nil }
                    state.count -= expired.count
                    late.append(expired)
                }
                if state.groups[condition]!.isEmpty { state.groups[condition] = nil }
            }
            return late
        }
        Self.deliver(late, false)
    }

    /// Answers every held request (false): the channel stops.
    func releaseAll() {
        let all = waiters.withLock { state -> [Group] in
            defer { (state.groups, state.count) = ([:], 0) }
            return state.groups.values.flatMap(\.values)
        }
        Self.deliver(all, false)
    }

    /// Runs the waiters' `resume`: at once for those without a loop, and for the others in one
    /// task per event loop (all the conditions met on it), as an `AnswerBurst`: a connection
    /// answering many of them (an HTTP/2 connection holding a playlist reload and the hinted
    /// part) flushes once.
    ///
    /// Each loop resumes its waiters in the order they were held. Besides being fair, this keeps
    /// the closes that follow (clients of one request per connection) in the order the
    /// connections came: the Swift runtime looks for a finished child task (Hummingbird's task
    /// of a connection) from the oldest of its group on, so 10,000 connections closing in no
    /// order cost it a core for a second.
    private static func deliver(_ groups: [Group], _ value: Bool, timing: ReleaseTiming? = nil) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, groups: [[(id: UInt64, waiter: Waiter)]])] = [:]
        var unbound = false
        for group in groups {
            guard let loop = group.loop else {
                for (_, waiter) in group.waiters { waiter.resume(value) }
                unbound = true
                continue
            }
            byLoop[ObjectIdentifier(loop), default: (loop, [])].groups.append(group.waiters)
        }
        if unbound { timing?.groupDone() }
        for (loop, groups) in byLoop.values {
            loop.execute {
                let ordered = merged(groups)
                AnswerBurst.run { for waiter in ordered { waiter.resume(value) } }
                timing?.groupDone()
            }
        }
    }

    /// The waiters of a loop's groups (each oldest first), oldest first.
    private static func merged(_ groups: [[(id: UInt64, waiter: Waiter)]]) -> [Waiter] {
        guard groups.count > 1 else { return groups.first?.map(\.waiter) ?? [] }
        var next = [Int](repeating: 0, count: groups.count)
        var ordered: [Waiter] = []
        ordered.reserveCapacity(groups.reduce(0) { $0 + $1.count })
        while true {
            var oldest: Int?
            for (index, group) in groups.enumerated() where next[index] < group.count {
                if let best = oldest, groups[best][next[best]].id < group[next[index]].id { continue }
                oldest = index
            }
            guard let index = oldest else { return ordered }
            ordered.append(groups[index][next[index]].waiter)
            next[index] += 1
        }
    }

    /// Times one publication's hand-over: from its start until the last event loop's answers
    /// are written (those without a loop are resumed at once).
    private final class ReleaseTiming: Sendable {
        private let start = ContinuousClock.now
        private let requests: Int
        private let remaining: Atomic<Int>
        private let done: @Sendable (Release) -> Void

        init(requests: Int, groups: Int, done: @escaping @Sendable (Release) -> Void) {
            self.requests = requests
            remaining = Atomic(groups)
            self.done = done
        }

        func groupDone() {
            guard remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
            done(Release(requests: requests, seconds: (ContinuousClock.now - start) / .seconds(1)))
        }
    }
}
