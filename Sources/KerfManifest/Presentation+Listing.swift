import KerfCore

extension Presentation {
    /// How a presentation is listed: a finished package (static MPD, VOD playlists with
    /// EXT-X-ENDLIST, every segment) or a live channel (dynamic MPD, a sliding window with
    /// EXT-X-MEDIA-SEQUENCE and EXT-X-PROGRAM-DATE-TIME, optionally partial segments).
    public struct Listing: Sendable {
        /// What only a live listing has.
        public struct Live: Sendable {
            /// Media listed back from the live edge (playlists, DASH timeShiftBufferDepth).
            public var window: MediaTime
            /// EXT-X-TARGETDURATION (the configured target rounded up, raised by any longer
            /// segment; also DASH maxSegmentDuration).
            public var targetDuration: Int
            /// Wall-clock time of presentation time 0, in seconds since 1970
            /// (availabilityStartTime; EXT-X-PROGRAM-DATE-TIME of a segment is this plus its start).
            public var availabilityStart: Double = 0
            /// MPD@publishTime, seconds since 1970.
            public var publishTime: Double = 0
            /// LL-HLS part target and LL-DASH chunk duration (nil: whole segments only).
            public var partTarget: MediaTime?
            /// DASH UTCTiming URL (http-xsdate).
            public var utcTiming: String?
            /// DASH SegmentTimelines list every segment since their Period's start (the ones
            /// that left the window as `Track.earlier` runs), not only the window's.
            public var timelineFromPeriodStart = false

            public init(window: MediaTime, targetDuration: Int, availabilityStart: Double = 0, publishTime: Double = 0,
                        partTarget: MediaTime? = nil, utcTiming: String? = nil) {
                self.window = window
                self.targetDuration = targetDuration
                self.availabilityStart = availabilityStart
                self.publishTime = publishTime
                self.partTarget = partTarget
                self.utcTiming = utcTiming
            }
        }

        /// The target segment duration (MPD@minBufferTime; live: minimumUpdatePeriod).
        public var segmentDuration: MediaTime
        /// EXT-X-KEY of every media playlist's first segment (AES-128 packages).
        public var hlsKey: HLSKey?
        /// Nil for a package.
        public var live: Live?
        /// A package's date of presentation time 0, in seconds since 1970: the
        /// EXT-X-PROGRAM-DATE-TIME of its segments when it lists splice markers (a live listing
        /// uses its availability start).
        public var programDateTime: Double = 0
        /// How HLS lists splice markers.
        public var adMarkers: AdMarkers = [.dateRange]
        /// A DASH Period starts at each splice marker's start and end.
        public var cuePeriods = false
        /// Where DASH carries splice markers: the Period's EventStream, in-band emsg (the
        /// segments carry them; the scheme's InbandEventStream is the tracks'), or both.
        public var dashEvents: DASHEvents = [.period]

        public init(segmentDuration: MediaTime, hlsKey: HLSKey? = nil, live: Live? = nil) {
            self.segmentDuration = segmentDuration
            self.hlsKey = hlsKey
            self.live = live
        }

        public var isLive: Bool { live != nil }

        /// The date of presentation time 0, seconds since 1970.
        public var dateOrigin: Double { live?.availabilityStart ?? programDateTime }
    }

    /// HLS tags for splice markers: EXT-X-DATERANGE, the older EXT-X-CUE-OUT/-CONT/-IN, or both.
    public struct AdMarkers: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let dateRange = AdMarkers(rawValue: 1)
        public static let cue = AdMarkers(rawValue: 2)
    }

    /// DASH carriage of splice markers: an EventStream in the Period (`urn:scte:scte35:2014:xml+bin`),
    /// `emsg` boxes in the segments (`urn:scte:scte35:2013:bin`), or both.
    public struct DASHEvents: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let period = DASHEvents(rawValue: 1)
        public static let inband = DASHEvents(rawValue: 2)
    }

    /// The live edge: the latest segment end over all renditions (zero when none).
    public var liveEdge: MediaTime {
        tracks.values.compactMap(\.end).max() ?? .zero(timescale: 1000)
    }

    /// The segments of `track` a listing names: all of them for a package, those ending
    /// inside the window back from the live edge for a live channel.
    public func listed(_ track: Track, _ listing: Listing) -> ArraySlice<Segment> {
        guard let live = listing.live else { return track.segments[...] }
        let from = liveEdge - live.window
        let first = track.segments.firstIndex { $0.start + $0.duration > from } ?? track.segments.endIndex
        return track.segments[first...]
    }

    /// The segments of `track` an HLS playlist names. For a live channel: the window, measured
    /// back from the audio or video rendition furthest behind (at most a target duration behind
    /// the live edge), and half a target duration more, from the segment of the first video
    /// rendition (else audio) that starts at or before then; every other rendition starts at its
    /// segment nearest to that one's start; and at least three target durations (RFC 8216
    /// §6.2.2), when the rendition has that many.
    ///
    /// Renditions' segments end at different times (audio and video boundaries differ). Measured
    /// from the live edge, as DASH's timeShiftBufferDepth is, the rendition behind listed one
    /// segment less until its next came (4 s of 2 s segments in a 6 s window), and renditions
    /// whose boundaries fell on either side of the window's start began their playlists a whole
    /// segment apart; Chromium's HLS player starting on either gave up with
    /// DEMUXER_ERROR_COULD_NOT_PARSE (its segment queue empty, or its audio and video more than
    /// 2 s apart).
    public func hlsListed(_ track: Track, _ listing: Listing) -> ArraySlice<Segment> {
        guard let live = listing.live, let last = track.segments.last, let end = track.end else { return track.segments[...] }
        let target = MediaTime(value: Int64(live.targetDuration), timescale: 1), edge = liveEdge
        let media = order.compactMap { tracks[$0] }.filter { $0.kind == .video || $0.kind == .audio }
        let from = max(media.compactMap(\.end).min() ?? edge, edge - target) - live.window
            - MediaTime(value: Int64(live.targetDuration), timescale: 2)
        let reference = media.first { $0.kind == .video } ?? media.first ?? track
        let start = (reference.segments.last { $0.start <= from } ?? reference.segments.first ?? last).start
        var first = track.segments.firstIndex { $0.start >= start } ?? track.segments.index(before: track.segments.endIndex)
        if first > track.segments.startIndex, start - track.segments[first - 1].start <= track.segments[first].start - start { first -= 1 }
        while first > track.segments.startIndex, end - track.segments[first].start < target + target + target { first -= 1 }
        return track.segments[first...]
    }

    /// A URI as written in a media playlist: relative to the rendition's folder.
    func relative(_ uri: String, to track: Track) -> String {
        let prefix = track.id + "/"
        return uri.hasPrefix(prefix) ? String(uri.dropFirst(prefix.count)) : uri
    }

    /// EXT-X-MAP of an epoch: the initialization file, or its byte range in a single file.
    func map(_ track: Track, epoch: Int) -> HLSMap? {
        guard let entry = track.initializations[epoch] ?? track.initializations.values.first else { return nil }
        let uri = relative(entry.uri, to: track)
        guard let range = entry.range else { return HLSMap(uri: uri) }
        return HLSMap(uri: uri, byteRange: ByteRange(length: range.count, offset: range.lowerBound))
    }

    /// AVERAGE-BANDWIDTH: the listed segments' bytes over their duration, rounded up.
    func averageBitRate(_ track: Track, _ listing: Listing) -> Int {
        let segments = hlsListed(track, listing)
        let seconds = segments.reduce(MediaTime.zero(timescale: track.description.timescale)) { $0 + $1.duration }.seconds
        guard seconds > 0 else { return 0 }
        return Int((Double(segments.reduce(0) { $0 + $1.size }) * 8 / seconds).rounded(.up))
    }

    /// `25` or `30000/1001`.
    static func frameRate(_ rate: Rational) -> String {
        let r = rate.reduced
        return r.denominator == 1 ? "\(r.numerator)" : "\(r.numerator)/\(r.denominator)"
    }
}
