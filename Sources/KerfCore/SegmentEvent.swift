/// What a track writer made, announced to its listeners (the store that keeps the bytes, the
/// presentation that lists them), in the order it made them. The same events describe a package
/// being written and a live channel's window: how they are stored and listed differs by the
/// listener, never by the event.
///
/// URIs are relative to the presentation's root (`video_720p/seg_3.m4s`); times are media time
/// on the presentation timeline.
public enum SegmentEvent: Sendable, Hashable {
    /// A rendition is published from now on (announced once, before its first segment; a live
    /// channel announces it again, possibly changed, at each epoch).
    case started(RenditionDescription)
    /// A stretch of continuous media begins (a live channel's (re)connection): an HLS
    /// discontinuity and a DASH Period. Packages have one implicit epoch starting at zero.
    case epochStarted(id: Int, start: MediaTime, renditions: [String])
    /// A rendition's initialization segment for an epoch.
    case initialization(rendition: String, epoch: Int, InitializationEntry)
    case segmentCompleted(rendition: String, SegmentEntry)
    /// A partial segment (LL-HLS EXT-X-PART, an LL-DASH chunk) of the segment being written.
    case partCompleted(rendition: String, PartEntry)
    /// An ad break or other SCTE-35 signal, aligned to segment boundaries; announced again
    /// with the same id when it changes (its end becomes known). Not tied to a rendition:
    /// every media playlist and the MPD list it.
    case splice(SpliceMarker)
}

/// A rendition as listed in manifests: what it carries and how it is named.
public struct RenditionDescription: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case video, audio, text
        /// An MPEG-TS variant: video and audio muxed in one stream (`members`).
        case muxed
    }

    /// The rendition's folder in URLs ("video_720p"): its identity.
    public var id: String
    public var kind: Kind
    /// The track; for a muxed variant, its lead (video) track.
    public var info: TrackInfo
    public var name: String
    public var language: String?
    /// The default rendition of its group (EXT-X-MEDIA DEFAULT, DASH Role main).
    public var isDefault: Bool
    /// A declared bit rate replacing the measured peak (bits per second).
    public var declaredBandwidth: Int?
    /// Ticks per second of segment times in the rendition's media.
    public var timescale: Int64
    /// A muxed variant's member renditions (lead first), with their tracks for CODECS.
    public var members: [TrackInfo]
    /// The DASH SegmentTemplate@media of the rendition, relative to the root
    /// ("video_720p/seg_$Number$.m4s"); nil where DASH does not list it by template.
    public var mediaTemplate: String?
    /// Whether the template addresses segments by `$Time$` (no startNumber).
    public var templateByTime: Bool
    /// A text rendition's whole WebVTT document, for DASH (one file, no segments).
    public var wholeFile: String?
    /// How its samples are encrypted (Common Encryption), nil when they are clear.
    public var protection: ContentProtection?
    /// The closed captions its video carries (a muxed variant: its lead's): empty when the
    /// whole track was read and has none, nil when it was not read for them.
    public var captions: ClosedCaptions?
    /// The schemes of the `emsg` boxes in its segments (DASH InbandEventStream).
    public var eventSchemes: [String]

    public init(id: String, kind: Kind, info: TrackInfo, name: String, language: String?, isDefault: Bool = false,
                declaredBandwidth: Int? = nil, timescale: Int64, members: [TrackInfo] = [], mediaTemplate: String? = nil,
                templateByTime: Bool = false, wholeFile: String? = nil, protection: ContentProtection? = nil,
                captions: ClosedCaptions? = nil, eventSchemes: [String] = []) {
        self.id = id
        self.kind = kind
        self.info = info
        self.name = name
        self.language = language
        self.isDefault = isDefault
        self.declaredBandwidth = declaredBandwidth
        self.timescale = timescale
        self.members = members
        self.mediaTemplate = mediaTemplate
        self.templateByTime = templateByTime
        self.wholeFile = wholeFile
        self.protection = protection
        self.captions = captions
        self.eventSchemes = eventSchemes
    }
}

/// Where a rendition's initialization segment is: a file, or byte ranges of a single file
/// (with the `sidx` range of the on-demand profile).
public struct InitializationEntry: Sendable, Hashable, Codable {
    public var uri: String
    public var range: ClosedRange<Int>?
    public var indexRange: ClosedRange<Int>?

    public init(uri: String, range: ClosedRange<Int>? = nil, indexRange: ClosedRange<Int>? = nil) {
        self.uri = uri
        self.range = range
        self.indexRange = indexRange
    }
}

/// One completed media segment.
public struct SegmentEntry: Sendable, Hashable, Codable {
    public var uri: String
    /// Media sequence number (EXT-X-MEDIA-SEQUENCE counting; DASH $Number$ is this plus one).
    public var sequence: UInt64
    /// Earliest presentation time and duration, in the rendition's timescale.
    public var start: MediaTime
    public var duration: MediaTime
    public var size: Int
    /// Offset of the segment in a single file (EXT-X-BYTERANGE), nil for a file of its own.
    public var offset: Int?
    /// Keyframes addressable by byte range (I-frame playlists); empty where not recorded.
    public var keyframes: [KeyframeEntry]
    /// Under key rotation, the protection of the segment's key period (HLS names its keys
    /// where the period changes); nil where the rendition's protection applies.
    public var protection: ContentProtection?

    public init(uri: String, sequence: UInt64, start: MediaTime, duration: MediaTime, size: Int, offset: Int? = nil,
                keyframes: [KeyframeEntry] = [], protection: ContentProtection? = nil) {
        self.uri = uri
        self.sequence = sequence
        self.start = start
        self.duration = duration
        self.size = size
        self.offset = offset
        self.keyframes = keyframes
        self.protection = protection
    }

    /// Bits per second over the segment, rounded up.
    public var bitRate: Int {
        guard duration.value > 0 else { return 0 }
        return Int((Double(size) * 8 * Double(duration.timescale) / Double(duration.value)).rounded(.up))
    }
}

/// A keyframe of a segment: the fragment's `moof` through the end of the keyframe's data.
public struct KeyframeEntry: Sendable, Hashable, Codable {
    public var uri: String
    public var offset: Int
    public var length: Int
    public var start: MediaTime
    /// Time to the next keyframe (or the end).
    public var duration: MediaTime

    public init(uri: String, offset: Int, length: Int, start: MediaTime, duration: MediaTime) {
        self.uri = uri
        self.offset = offset
        self.length = length
        self.start = start
        self.duration = duration
    }
}

/// One partial segment of the segment being written.
public struct PartEntry: Sendable, Hashable, Codable {
    public var uri: String
    /// Start of the segment it belongs to, and its 0-based place in it.
    public var segmentStart: MediaTime
    public var index: Int
    public var duration: MediaTime
    /// Starts with a sync sample (a video keyframe; every audio part).
    public var independent: Bool
    /// The epoch of its segment.
    public var epoch: Int

    public init(uri: String, segmentStart: MediaTime, index: Int, duration: MediaTime, independent: Bool, epoch: Int) {
        self.uri = uri
        self.segmentStart = segmentStart
        self.index = index
        self.duration = duration
        self.independent = independent
        self.epoch = epoch
    }
}
