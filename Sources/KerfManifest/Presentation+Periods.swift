import KerfCore

extension Presentation {
    /// One Period of an MPD: the epoch its segments belong to and, when Periods are split at
    /// splice markers, the stretch of it the Period covers.
    struct PeriodPlan {
        /// Period@id: the epoch's id for its first Period; a Period starting at a splice, its
        /// start in milliseconds (a package's split Periods: their position). Stable across a
        /// live MPD's updates.
        var id: String
        var epoch: Epoch
        var start: MediaTime
        /// The next Period's start (nil: the last one).
        var end: MediaTime?
        /// Whether segments are picked by time (`start` to `end`), not only by epoch.
        var byTime: Bool

        /// Whether `segment` is listed in this Period (a live listing: of its epoch).
        func contains(_ segment: Segment, live: Bool) -> Bool {
            if live && segment.epoch != epoch.id { return false }
            guard byTime else { return true }
            let start = segment.start + Presentation.markerTolerance
            return start >= self.start && (end.map { start < $0 } ?? true)
        }
    }

    /// The Periods of the MPD: a package's one (one per key period), or with `cuePeriods` one
    /// from 0 and one from each marker's start and end; a live channel's one per epoch, with
    /// `cuePeriods` split at the markers' starts and ends inside it (and at the last split of
    /// markers already forgotten, so the Period of listed segments keeps its id).
    func periodPlans(_ listing: Listing) -> [PeriodPlan] {
        if !listing.isLive {
            if listing.cuePeriods && !markers.isEmpty {
                let starts = splitTimes(after: .zero(timescale: 1), before: nil)
                let all = [MediaTime.zero(timescale: 1)] + starts
                return all.enumerated().map { index, start in
                    PeriodPlan(id: "\(index)", epoch: Epoch(id: index, start: start, renditions: order), start: start,
                               end: index + 1 < all.count ? all[index + 1] : nil, byTime: true)
                }
            }
            let epochs = self.epochs.isEmpty ? [Epoch(id: 0, start: .zero(timescale: 1), renditions: order)] : self.epochs
            return epochs.enumerated().map { index, epoch in
                PeriodPlan(id: "\(epoch.id)", epoch: epoch, start: epoch.start, end: index + 1 < epochs.count ? epochs[index + 1].start : nil,
                           byTime: false)
            }
        }
        var plans: [PeriodPlan] = []
        for (index, epoch) in epochs.enumerated() {
            let end = index + 1 < epochs.count ? epochs[index + 1].start : nil
            let splits = listing.cuePeriods ? splitTimes(after: epoch.start, before: end) : []
            let starts = [epoch.start] + splits
            for (position, start) in starts.enumerated() {
                let id = position == 0 ? "\(epoch.id)" : "\(start.rescaled(to: 1000).value)"
                plans.append(PeriodPlan(id: id, epoch: epoch, start: start,
                                        end: position + 1 < starts.count ? starts[position + 1] : end, byTime: !splits.isEmpty))
            }
        }
        return plans
    }

    /// The markers' starts and ends (and the last forgotten split) strictly inside
    /// `start`…`end`, a tolerance apart, in order.
    private func splitTimes(after start: MediaTime, before end: MediaTime?) -> [MediaTime] {
        let tolerance = Self.markerTolerance
        let times = (markers.flatMap { [$0.start] + ($0.end.map { [$0] } ?? []) } + (forgottenSplit.map { [$0] } ?? [])).sorted()
        var splits: [MediaTime] = []
        for time in times where time > start + tolerance && (end.map { time + tolerance < $0 } ?? true) {
            if let last = splits.last, time < last + tolerance { continue }
            splits.append(time)
        }
        return splits
    }

    /// A run's segments (`start + k·duration`) that a Period from `start` to `end` lists.
    static func clip(_ run: SegmentRun, from start: MediaTime, to end: MediaTime?) -> SegmentRun? {
        let scale = run.duration.timescale, step = max(run.duration.value, 1)
        let origin = run.start.rescaled(to: scale).value, tolerance = markerTolerance.rescaled(to: scale).value
        func index(_ time: MediaTime) -> Int64 {
            // The first k whose segment starts (within the tolerance) at or after `time`.
            let distance = time.rescaled(to: scale).value - tolerance - origin
            return distance <= 0 ? 0 : (distance + step - 1) / step
        }
        let first = min(index(start), Int64(run.count))
        let last = end.map { min(index($0), Int64(run.count)) } ?? Int64(run.count)
        guard last > first else { return nil }
        return SegmentRun(start: MediaTime(value: origin + first * step, timescale: scale), duration: run.duration, count: Int(last - first))
    }
}
