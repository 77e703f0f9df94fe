import KerfCore

/// The low-latency parts of a live Media Playlist (RFC 8216bis §4.4.3.7–4.4.5.3): server
/// control, partial segments, the preload hint, rendition reports and a delta update's skip.
public struct LowLatencyHLS: Sendable, Hashable, Codable {
    /// EXT-X-SERVER-CONTROL.
    public var canBlockReload = true
    public var holdBack: MediaTime?
    public var partHoldBack: MediaTime?
    public var canSkipUntil: MediaTime?
    /// EXT-X-PART-INF:PART-TARGET.
    public var partTarget: MediaTime
    /// Partial segments after the last listed Media Segment (of the one being written).
    public var trailingParts: [PartialSegment] = []
    /// EXT-X-DATERANGE of splices starting (or ending) where the segment being written starts,
    /// listed before its parts.
    public var trailingDateRanges: [HLSDateRange] = []
    /// EXT-X-PRELOAD-HINT:TYPE=PART.
    public var preloadHint: String?
    /// EXT-X-RENDITION-REPORT, one per other rendition.
    public var renditionReports: [RenditionReport] = []
    /// EXT-X-SKIP:SKIPPED-SEGMENTS (a delta update).
    public var skippedSegments: Int?

    public init(partTarget: MediaTime) {
        self.partTarget = partTarget
    }

    /// EXT-X-PART.
    public struct PartialSegment: Sendable, Hashable, Codable {
        public var uri: String
        public var duration: MediaTime
        public var independent: Bool

        public init(uri: String, duration: MediaTime, independent: Bool) {
            self.uri = uri
            self.duration = duration
            self.independent = independent
        }

        var tag: String {
            "#EXT-X-PART:DURATION=\(hlsDecimal(duration)),URI=\"\(uri)\"" + (independent ? ",INDEPENDENT=YES" : "")
        }
    }

    /// EXT-X-RENDITION-REPORT.
    public struct RenditionReport: Sendable, Hashable, Codable {
        public var uri: String
        public var lastMediaSequence: UInt64
        public var lastPart: Int?

        public init(uri: String, lastMediaSequence: UInt64, lastPart: Int?) {
            self.uri = uri
            self.lastMediaSequence = lastMediaSequence
            self.lastPart = lastPart
        }
    }

    /// The tags written before the segments.
    var headerTags: [String] {
        var control = ["CAN-BLOCK-RELOAD=\(canBlockReload ? "YES" : "NO")"]
        if let canSkipUntil { control.append("CAN-SKIP-UNTIL=\(hlsDecimal(canSkipUntil))") }
        if let holdBack { control.append("HOLD-BACK=\(hlsDecimal(holdBack))") }
        if let partHoldBack { control.append("PART-HOLD-BACK=\(hlsDecimal(partHoldBack))") }
        var tags = ["#EXT-X-SERVER-CONTROL:" + control.joined(separator: ","), "#EXT-X-PART-INF:PART-TARGET=\(hlsDecimal(partTarget))"]
        if let skippedSegments { tags.append("#EXT-X-SKIP:SKIPPED-SEGMENTS=\(skippedSegments)") }
        return tags
    }

    /// The tags written after the segments.
    var trailerTags: [String] {
        var tags = trailingParts.map(\.tag)
        if let preloadHint { tags.append("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"\(preloadHint)\"") }
        for report in renditionReports {
            tags.append("#EXT-X-RENDITION-REPORT:URI=\"\(report.uri)\",LAST-MSN=\(report.lastMediaSequence)"
                        + (report.lastPart.map { ",LAST-PART=\($0)" } ?? ""))
        }
        return tags
    }
}
