/// A video track's keyframes as its container's index lists them (an MP4's sync sample table),
/// known as soon as the input is opened, before any packet is read.
///
/// Times are decode times, which is what a container index stores. The pictures decoding starts
/// from in closed GOPs made with one encoder setting are all presented the same reorder delay
/// after they are decoded, so distances between these times are presentation distances; that is
/// what a forecast of segment boundaries relies on.
public struct KeyframeIndex: Sendable, Hashable {
    /// Decode times of the samples the index marks as keyframes, ascending, on the track's own
    /// timeline (the one its packets are timestamped on).
    public var keyframeTimes: [MediaTime]
    /// Samples the index lists, keyframes or not.
    public var sampleCount: Int

    /// - Parameter keyframeTimes: keyframe decode times, in any order.
    public init(keyframeTimes: [MediaTime], sampleCount: Int) {
        self.keyframeTimes = keyframeTimes.sorted()
        self.sampleCount = sampleCount
    }
}
