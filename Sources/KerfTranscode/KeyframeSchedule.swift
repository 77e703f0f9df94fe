import KerfCore

/// Decides which pictures are coded as keyframes: the first picture, then the first picture at
/// or after each multiple of the segment duration measured from it, and the first at or after
/// each splice point (a splice out or return the segmenter cuts at, measured from it too).
///
/// The packager's segmenter cuts by the same rule, so every segment starts with a keyframe at
/// exactly the boundary, and every rung of a ladder (fed the same timestamps) cuts identically.
public struct KeyframeSchedule: Sendable, Equatable {
    public let target: MediaTime
    public private(set) var start: MediaTime?
    /// Index of the next boundary (1: start + target).
    private var next: Int64 = 1
    /// Splice points not reached yet, from the start, sorted.
    private var splicePoints: [MediaTime]

    public init(target: MediaTime, splicePoints: [MediaTime] = []) {
        precondition(target.value > 0, "segment duration must be positive")
        self.target = target
        self.splicePoints = splicePoints.sorted()
    }

    /// Splice points given on the source's timeline before the first picture.
    private var heldPoints: [MediaTime] = []

    /// Adds a splice point on the source's timeline (a live channel's splice): the first picture
    /// at or after it is a keyframe, or the next picture when it has passed.
    public mutating func addSplicePoint(at time: MediaTime) {
        guard let start else { return heldPoints.append(time) }
        splicePoints.append(time - start)
        splicePoints.sort()
    }

    /// Whether the picture presented at `time` must be a keyframe. Call in presentation order.
    public mutating func isKeyframe(at time: MediaTime) -> Bool {
        guard let start else {
            self.start = time
            for point in heldPoints where point > time { addSplicePoint(at: point) }
            heldPoints = []
            return true
        }
        let elapsed = time - start
        if let point = splicePoints.first, elapsed >= point {
            splicePoints.removeAll { $0 <= elapsed }
            while elapsed >= boundary(next) { next += 1 }
            return true
        }
        guard elapsed >= boundary(next) else { return false }
        while elapsed >= boundary(next) { next += 1 }
        return true
    }

    private func boundary(_ index: Int64) -> MediaTime {
        MediaTime(value: target.value * index, timescale: target.timescale)
    }
}
