import KerfCore

/// The HTTP Date header of the fast paths, formatted once a second rather than per response.
struct DateHeader {
    /// The date (`Tue, 24 Nov 2026 10:00:00 GMT`).
    private(set) var value = ""
    /// The same as the head's last line: `Date: …` and the blank line that ends the head.
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
