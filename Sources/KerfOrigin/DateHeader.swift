import KerfCore

/// The HTTP Date header, formatted once a second rather than per response: the fast path's
/// (one per connection) and the router's (`RouterResponder`, shared under a lock).
struct DateHeader: Sendable {
    /// The date: `Tue, 24 Nov 2026 10:00:00 GMT`.
    private(set) var value = ""
    /// The head's last line: `Date: Tue, 24 Nov 2026 10:00:00 GMT` and the blank line that ends
    /// the head.
    private(set) var lastLine = ""
    private var second: Int64 = -1

    /// Brings the date up to the current second.
    mutating func refresh() {
        let now = Int64(UTCTime.now())
        guard now != second else { return }
        second = now
        value = UTCTime.httpDate(now)
        lastLine = "Date: " + value + "\r\n\r\n"
    }
}
