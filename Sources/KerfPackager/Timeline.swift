import KerfCore

/// Segment boundaries of the presentation, as decided by the reference track.
struct Timeline: Sendable {
    var boundaries: [MediaTime]
    var end: MediaTime

    var segments: [(start: MediaTime, end: MediaTime)] {
        let starts = [MediaTime.zero(timescale: end.timescale)] + boundaries
        return starts.enumerated().map { index, start in
            (start, index + 1 < starts.count ? starts[index + 1] : end)
        }
    }
}
