import KerfCore

/// A written track as the manifest builder sees it.
struct PublishedTrack: Sendable {
    var plan: PlannedTrack
    var timescale: Int64
    var segments: [SegmentRecord]
    var keyframes: [KeyframeRecord]
    var singleFileRanges: (initRange: ClosedRange<Int>, indexRange: ClosedRange<Int>)?
    /// The closed captions found in every sample of a video track (nil for other tracks).
    var captions: ClosedCaptions?
    /// The schemes of the emsg boxes its segments carry (timed ID3).
    var eventSchemes: [String] = []

    var duration: MediaTime {
        segments.last.map { $0.start + $0.duration } ?? .zero(timescale: timescale)
    }
    var peakBitRate: Int { plan.bandwidth ?? segments.map(\.bitRate).max() ?? 0 }
    var averageBitRate: Int {
        let seconds = segments.reduce(MediaTime.zero(timescale: timescale)) { $0 + $1.duration }.seconds
        guard seconds > 0 else { return 0 }
        return Int((Double(segments.reduce(0) { $0 + $1.size }) * 8 / seconds).rounded(.up))
    }
}
