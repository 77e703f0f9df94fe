import Foundation

/// A condition a test waited for did not hold before its deadline.
public struct TimedOut: Error, CustomStringConvertible {
    public var description: String
}

/// Waits until `condition` holds, checking it every `poll`; throws `TimedOut` after `timeout`.
/// Deadlines are generous (a loaded 2-core machine runs several real-time encoders at once): a
/// test fails on an answer that never comes, not on a slow one.
public func waitUntil(_ what: @autoclosure () -> String = "the condition", timeout: Duration = .seconds(30),
                      poll: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async throws {
    _ = try await waitFor(what(), timeout: timeout, poll: poll) { try await condition() ? true : nil }
}

/// Waits until `value` returns something, checking every `poll`; returns it, or throws
/// `TimedOut` after `timeout`.
public func waitFor<T>(_ what: @autoclosure () -> String = "a value", timeout: Duration = .seconds(30),
                       poll: Duration = .milliseconds(100), _ value: () async throws -> T?) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if let found = try await value() { return found }
        guard clock.now < deadline else { throw TimedOut(description: "\(what()) did not happen within \(timeout)") }
        try await Task.sleep(for: poll)
    }
}
