import HeapModule
import NIOCore
import NIOPosix

/// The deadlines of one event loop's connections (the idle check, the limits on a request
/// head's and a TLS handshake's arrival), kept behind a single NIO timer for the loop.
///
/// NIO cancels a scheduled task by searching its loop's timer heap for it, so with a timer of
/// its own per connection each connection that closed searched through every other
/// connection's timer (scheduling and cancelling were 5.5% of kerf's CPU in a storm of 4,096
/// connections; 1.0% here). Here a cancel only forgets the deadline's action; its heap entry is
/// dropped when it comes due, or when forgotten entries outnumber the live ones and the heap is
/// rebuilt. The loop's one NIO timer is moved only when a deadline earlier than all the others
/// arrives.
///
/// Each loop's instance is found with `on(_:)`, from its own thread; it is used on that loop
/// only (no lock).
final class LoopDeadlines {
    /// A scheduled deadline, to cancel it with.
    struct Token: Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry: Comparable {
        let deadline: NIODeadline
        let id: UInt64
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.deadline < rhs.deadline || (lhs.deadline == rhs.deadline && lhs.id < rhs.id)
        }
    }

    private weak var loop: (any EventLoop)?
    private var actions: [UInt64: () -> Void] = [:]
    private var queue = Heap<Entry>()
    private var nextID: UInt64 = 0
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?
    private var firing = false

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Deadlines waiting to come due (not cancelled).
    var count: Int { actions.count }
    /// Entries in the heap, cancelled ones not yet dropped included.
    var entries: Int { queue.count }

    /// Runs `action` on the loop at `deadline` unless cancelled first.
    func schedule(at deadline: NIODeadline, _ action: @escaping () -> Void) -> Token {
        nextID &+= 1
        actions[nextID] = action
        queue.insert(Entry(deadline: deadline, id: nextID))
        if !firing { arm() }
        return Token(id: nextID)
    }

    /// Runs `action` on the loop once `delay` has passed, unless cancelled first.
    func schedule(in delay: TimeAmount, _ action: @escaping () -> Void) -> Token? {
        guard let loop else { return nil }
        return schedule(at: loop.now + delay, action)
    }

    /// Forgets a deadline's action (nothing happens for a token already due or cancelled).
    func cancel(_ token: Token?) {
        guard let token, actions.removeValue(forKey: token.id) != nil else { return }
        if queue.count > 64 + 2 * actions.count {
            queue = Heap(queue.unordered.filter { actions[$0.id] != nil })
        }
    }

    /// Keeps the loop's NIO timer at the earliest deadline held.
    private func arm() {
        guard let loop, let earliest = queue.min?.deadline else { return }
        if let timer, timer.deadline <= earliest { return }
        timer?.task.cancel()
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = (earliest, loop.scheduleTask(deadline: earliest) { bound.value.fire() })
    }

    /// Runs the actions of every deadline that has come, then waits for the next.
    private func fire() {
        timer = nil
        guard let loop else { return }
        firing = true
        let now = loop.now
        while let first = queue.min, first.deadline <= now {
            queue.removeMin()
            actions.removeValue(forKey: first.id)?()
        }
        firing = false
        arm()
    }

    /// This thread's instances, one per event loop that used it (only ever touched from the
    /// thread whose variable holds it).
    private final class Registry: @unchecked Sendable {
        var entries: [LoopDeadlines] = []
    }

    private static let registry = ThreadSpecificVariable<Registry>()

    /// The deadlines of `loop`, called on it.
    static func on(_ loop: any EventLoop) -> LoopDeadlines {
        let registry = Self.registry.currentValue ?? {
            let made = Registry()
            Self.registry.currentValue = made
            return made
        }()
        if let found = registry.entries.first(where: { $0.loop === loop }) { return found }
        // Loops that are gone (test loops) leave their entries behind: dropped here.
        registry.entries.removeAll { $0.loop == nil }
        let made = LoopDeadlines(loop: loop)
        registry.entries.append(made)
        return made
    }
}
