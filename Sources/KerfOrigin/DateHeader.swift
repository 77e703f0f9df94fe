import KerfCore

/// The HTTP Date header of the fast path, formatted once a second rather than per response.
struct DateHeader {
    /// The head's last line: `Date: Tue, 24 Nov 2026 10:00:00 GMT` and the blank line that ends
    /// the head.
    private(set) var lastLine = ""
    private var second: Int64 = -1

    /// Brings the date up to the current second.
    mutating func refresh() {
        let now = Int64(UTCTime.now())
        guard now != second else { return }
        second = now
        lastLine = "Date: " + UTCTime.httpDate(now) + "\r\n\r\n"
    }
}
