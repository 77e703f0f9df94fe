import NIOPosix

/// A burst of answers written in one go on one thread (an event loop handing over the requests
/// held for a publication): while `run` executes its body, connections written to many times in
/// it (an HTTP/2 connection carrying hundreds of held streams) put off their flush with
/// `deferUntilEnd`, and flush once when the body has returned. Their answers then leave in one
/// encryption pass and one system call per connection instead of one per stream.
///
/// Each thread has its own burst and only that thread touches it, so it needs no lock.
package final class AnswerBurst: @unchecked Sendable {
    private static let current = ThreadSpecificVariable<AnswerBurst>()

    /// Actions put off until the end of the running burst, in order.
    private var deferred: [() -> Void] = []
    private var running = false

    private init() {}

    /// Runs `body` as a burst: the actions deferred during it run once it returns. A burst
    /// already running on this thread takes the body in (the actions run at its end).
    package static func run(_ body: () -> Void) {
        let burst = current.currentValue ?? {
            let made = AnswerBurst()
            current.currentValue = made
            return made
        }()
        guard !burst.running else { return body() }
        burst.running = true
        body()
        burst.running = false
        // Actions deferred by these actions themselves are not: they run at once.
        let actions = burst.deferred
        burst.deferred = []
        for action in actions { action() }
    }

    /// Puts `action` off until the end of the burst running on this thread (true); false, and
    /// `action` is dropped, when none is running (the caller then acts at once).
    package static func deferUntilEnd(_ action: @escaping () -> Void) -> Bool {
        guard let burst = current.currentValue, burst.running else { return false }
        burst.deferred.append(action)
        return true
    }
}
