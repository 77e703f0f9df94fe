import KerfCore

/// A DASH Media Presentation Description (ISO/IEC 23009-1 §5.3), the parts Kerf writes.
public struct MPD: Sendable, Hashable {
    public enum PresentationType: String, Sendable { case `static`, dynamic }

    public static let liveProfile = "urn:mpeg:dash:profile:isoff-live:2011"
    public static let onDemandProfile = "urn:mpeg:dash:profile:isoff-on-demand:2011"
    public static let cmafProfile = "urn:mpeg:dash:profile:cmaf:2019"

    public var type: PresentationType
    public var profiles: [String]
    public var mediaPresentationDuration: MediaTime?
    public var minBufferTime: MediaTime
    public var maxSegmentDuration: MediaTime?
    public var periods: [Period]
    /// Dynamic presentations (§5.3.1.2): xs:dateTime texts and durations.
    public var availabilityStartTime: String?
    public var publishTime: String?
    public var minimumUpdatePeriod: MediaTime?
    public var timeShiftBufferDepth: MediaTime?
    public var suggestedPresentationDelay: MediaTime?
    /// UTCTiming descriptors (§5.8.4.11), written after the Periods.
    public var utcTimings: [Descriptor] = []
    /// ServiceDescription's Latency target, in milliseconds (low-latency DASH).
    public var targetLatency: Int?

    public init(type: PresentationType = .static, profiles: [String], minBufferTime: MediaTime, periods: [Period]) {
        self.type = type
        self.profiles = profiles
        self.minBufferTime = minBufferTime
        self.periods = periods
    }
}

public struct Period: Sendable, Hashable {
    public var id: String?
    public var start: MediaTime?
    public var duration: MediaTime?
    /// EventStreams (§5.10.2), written before the AdaptationSets.
    public var eventStreams: [EventStream] = []
    public var adaptationSets: [AdaptationSet]
    public init(id: String?, start: MediaTime? = nil, adaptationSets: [AdaptationSet]) {
        self.id = id
        self.start = start
        self.adaptationSets = adaptationSets
    }
}

/// An EventStream of a Period (§5.10.2): timed events of one scheme.
public struct EventStream: Sendable, Hashable {
    /// SCTE 214-1 §6.7: SCTE-35 sections as `scte35:Signal/scte35:Binary`.
    public static let scte35Scheme = "urn:scte:scte35:2014:xml+bin"
    /// The namespace of `scte35:` elements (SCTE 35 2016 XML schema).
    public static let scte35Namespace = "http://www.scte.org/schemas/35/2016"

    /// One Event: its time from the Period start (minus presentationTimeOffset) and duration in
    /// `timescale` ticks, its id, and an SCTE-35 section (base64) when it carries one.
    public struct Event: Sendable, Hashable {
        public var presentationTime: Int64
        public var duration: Int64?
        public var id: UInt32
        public var scte35Binary: String?
        public init(presentationTime: Int64, duration: Int64?, id: UInt32, scte35Binary: String?) {
            self.presentationTime = presentationTime
            self.duration = duration
            self.id = id
            self.scte35Binary = scte35Binary
        }
    }

    public var schemeIdUri: String
    public var value: String?
    public var timescale: Int64
    public var events: [Event]
    public init(schemeIdUri: String, value: String? = nil, timescale: Int64, events: [Event]) {
        self.schemeIdUri = schemeIdUri
        self.value = value
        self.timescale = timescale
        self.events = events
    }
}

/// A DASH descriptor (Role, AudioChannelConfiguration, Accessibility…).
public struct Descriptor: Sendable, Hashable {
    public var schemeIdUri: String
    public var value: String?
    public init(schemeIdUri: String, value: String?) { self.schemeIdUri = schemeIdUri; self.value = value }

    public static func role(_ value: String) -> Descriptor {
        Descriptor(schemeIdUri: "urn:mpeg:dash:role:2011", value: value)
    }
    public static func channels(_ count: Int) -> Descriptor {
        Descriptor(schemeIdUri: "urn:mpeg:dash:23003:3:audio_channel_configuration:2011", value: String(count))
    }
}

/// A ContentProtection element (ISO/IEC 23009-1 §5.8.4.1, ISO/IEC 23001-7 §11): the
/// mp4protection descriptor with `cenc:default_KID`, or a DRM system's with its `cenc:pssh`.
public struct ContentProtectionDescriptor: Sendable, Hashable {
    public var schemeIdUri: String
    public var value: String?
    /// `cenc:default_KID`, a UUID.
    public var defaultKID: String?
    /// `cenc:pssh`: a `pssh` box, base64.
    public var pssh: String?
    /// `mspr:pro`: a PlayReady Header Object, base64.
    public var playReadyObject: String?
    /// `dashif:Laurl`: the license server's URL.
    public var licenseURL: String?

    public init(schemeIdUri: String, value: String? = nil, defaultKID: String? = nil, pssh: String? = nil,
                playReadyObject: String? = nil, licenseURL: String? = nil) {
        self.schemeIdUri = schemeIdUri
        self.value = value
        self.defaultKID = defaultKID
        self.pssh = pssh
        self.playReadyObject = playReadyObject
        self.licenseURL = licenseURL
    }

    /// The namespace of `cenc:` attributes and elements.
    public static let cencNamespace = "urn:mpeg:cenc:2013"
    /// The namespace of `mspr:pro` (PlayReady).
    public static let playReadyNamespace = "urn:microsoft:playready"
    /// The namespace of `dashif:Laurl` (DASH-IF content protection).
    public static let dashIFNamespace = "https://dashif.org/CPS"
}

public struct AdaptationSet: Sendable, Hashable {
    public var id: Int?
    public var contentType: String?
    public var mimeType: String?
    public var lang: String?
    public var par: String?
    public var maxWidth: Int?
    public var maxHeight: Int?
    public var maxFrameRate: String?
    public var segmentAlignment: Bool
    public var subsegmentAlignment: Bool
    public var startWithSAP: Int?
    public var subsegmentStartsWithSAP: Int?
    public var audioChannelConfigurations: [Descriptor]
    /// A human-readable name (`Label`).
    public var label: String?
    /// Accessibility descriptors (closed captions in the video: SCTE 214-1 schemes).
    public var accessibilities: [Descriptor] = []
    /// InbandEventStream descriptors: the emsg schemes its segments carry.
    public var inbandEventStreams: [Descriptor] = []
    public var roles: [Descriptor]
    /// ContentProtection descriptors (Common Encryption and DRM systems).
    public var contentProtections: [ContentProtectionDescriptor] = []
    public var segmentTemplate: SegmentTemplate?
    public var representations: [Representation]

    public init(id: Int?, contentType: String?, mimeType: String?, representations: [Representation]) {
        self.id = id
        self.contentType = contentType
        self.mimeType = mimeType
        self.segmentAlignment = false
        self.subsegmentAlignment = false
        self.audioChannelConfigurations = []
        self.roles = []
        self.representations = representations
    }
}

public struct Representation: Sendable, Hashable {
    public var id: String
    public var bandwidth: Int
    public var codecs: String?
    public var mimeType: String?
    public var width: Int?
    public var height: Int?
    public var frameRate: String?
    public var sar: String?
    public var audioSamplingRate: Int?
    public var audioChannelConfigurations: [Descriptor]
    public var baseURL: String?
    public var segmentBase: SegmentBase?
    public var segmentTemplate: SegmentTemplate?
    /// ProducerReferenceTime: the wall-clock time (xs:dateTime) of a presentation time.
    public var producerReference: ProducerReferenceTime?

    public init(id: String, bandwidth: Int) {
        self.id = id
        self.bandwidth = bandwidth
        self.audioChannelConfigurations = []
    }
}

/// SegmentTemplate with an optional SegmentTimeline (§5.3.9.4, §5.3.9.6).
public struct SegmentTemplate: Sendable, Hashable {
    public var timescale: Int64
    public var initialization: String?
    public var media: String?
    public var startNumber: Int?
    public var duration: Int64?
    public var presentationTimeOffset: Int64?
    public var timeline: [SegmentTimelineEntry]
    /// Low-latency DASH: how many seconds before its end a segment may be requested, and
    /// whether it is then complete (false: delivered in chunks as it is made).
    public var availabilityTimeOffset: Double?
    public var availabilityTimeComplete: Bool?

    public init(timescale: Int64, initialization: String?, media: String?, startNumber: Int?, timeline: [SegmentTimelineEntry]) {
        self.timescale = timescale
        self.initialization = initialization
        self.media = media
        self.startNumber = startNumber
        self.timeline = timeline
    }
}

/// One `S` element: `d` ticks, repeated `r` more times, starting at `t` when given.
public struct SegmentTimelineEntry: Sendable, Hashable {
    public var t: Int64?
    public var d: Int64
    public var r: Int
    public init(t: Int64?, d: Int64, r: Int = 0) { self.t = t; self.d = d; self.r = r }

    /// Run-length encodes consecutive segments given as (start, duration) in one timescale.
    /// `t` is written for the first entry and wherever a gap or overlap breaks continuity.
    public static func compress(_ segments: [(start: Int64, duration: Int64)]) -> [SegmentTimelineEntry] {
        compress(runs: segments.map { ($0.start, $0.duration, 1) })
    }

    /// The same for runs of `count` consecutive segments of one duration from `start`.
    public static func compress(runs: [(start: Int64, duration: Int64, count: Int)]) -> [SegmentTimelineEntry] {
        var entries: [SegmentTimelineEntry] = []
        var expected: Int64? = nil
        for run in runs where run.count > 0 {
            if let last = entries.last, expected == run.start, last.d == run.duration {
                entries[entries.count - 1].r += run.count
            } else {
                entries.append(SegmentTimelineEntry(t: expected == run.start ? nil : run.start, d: run.duration, r: run.count - 1))
            }
            expected = run.start + run.duration * Int64(run.count)
        }
        return entries
    }
}

/// SegmentBase for on-demand single-file Representations (§5.3.9.2).
public struct SegmentBase: Sendable, Hashable {
    public var timescale: Int64
    /// Byte range of the `sidx`, "first-last".
    public var indexRange: String
    /// Byte range of the init segment (ftyp+moov), "first-last".
    public var initializationRange: String
    public init(timescale: Int64, indexRange: String, initializationRange: String) {
        self.timescale = timescale
        self.indexRange = indexRange
        self.initializationRange = initializationRange
    }
}

/// ProducerReferenceTime (ISO/IEC 23009-1 §5.12): when a presentation time was produced.
public struct ProducerReferenceTime: Sendable, Hashable {
    public var presentationTime: Int64
    /// xs:dateTime.
    public var wallClockTime: String

    public init(presentationTime: Int64, wallClockTime: String) {
        self.presentationTime = presentationTime
        self.wallClockTime = wallClockTime
    }
}
