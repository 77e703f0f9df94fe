/// Keyframe spacing of one video track, measured in presentation time.
public struct GOPStatistics: Sendable, Hashable, Codable {
    public var keyframeCount: Int
    /// Shortest, mean and longest distance between consecutive keyframes, in seconds; `nil`
    /// when there are fewer than two keyframes.
    public var minInterval: Double?
    public var meanInterval: Double?
    public var maxInterval: Double?
    /// True when every interval equals the others within one frame duration.
    public var isRegular: Bool
    /// Presentation times of the keyframes, ascending.
    public var keyframeTimes: [MediaTime]

    /// - Parameters:
    ///   - keyframeTimes: presentation times of keyframes, in any order.
    ///   - frameDuration: one frame's duration, the tolerance for "regular"; `nil` means exact.
    public init(keyframeTimes: [MediaTime], frameDuration: MediaTime?) {
        let sorted = keyframeTimes.sorted()
        self.keyframeTimes = sorted
        self.keyframeCount = sorted.count
        guard sorted.count >= 2 else {
            minInterval = nil; meanInterval = nil; maxInterval = nil
            isRegular = true
            return
        }
        var intervals: [MediaTime] = []
        intervals.reserveCapacity(sorted.count - 1)
        for i in 1..<sorted.count { intervals.append(sorted[i] - sorted[i - 1]) }
        let shortest = intervals.min()!, longest = intervals.max()!
        minInterval = shortest.seconds
        maxInterval = longest.seconds
        meanInterval = (sorted.last! - sorted.first!).seconds / Double(intervals.count)
        let spread = longest - shortest
        if let frameDuration {
            isRegular = spread < frameDuration
        } else {
            isRegular = spread.value == 0
        }
    }
}
