/// How long a channel waits before reconnecting its input: 0.5 s after the first failure, then
/// twice as long after each failure in a row (at most `maximum`); a connection that lasted
/// `resetAfter` seconds or more starts the count again. A value type: the channel asks it.
struct ReconnectBackoff: Sendable, Equatable {
    /// The longest wait, in seconds.
    var maximum = 30.0
    /// A connection lasting longer than this (seconds) forgets earlier failures.
    var resetAfter = 60.0
    private(set) var failures = 0

    /// A connection that lasted `connected` seconds ended or failed.
    /// - Returns: the seconds to wait before the next attempt.
    mutating func ended(after connected: Double) -> Double {
        if connected > resetAfter { failures = 0 }
        let delay = min(maximum, 0.5 * Double(1 << min(failures, 10)))
        failures += 1
        return delay
    }
}
