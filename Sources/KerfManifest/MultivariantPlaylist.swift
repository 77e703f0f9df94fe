/// An HLS Multivariant Playlist (RFC 8216bis §4.4.6).
public struct MultivariantPlaylist: Sendable, Hashable, Codable {
    public var independentSegments: Bool
    public var renditions: [Rendition]
    public var variants: [VariantStream]
    public var iFrameVariants: [IFrameVariantStream]
    /// EXT-X-SESSION-KEY: keys of the media playlists, for players to load early.
    public var sessionKeys: [HLSKey] = []

    public init(independentSegments: Bool = true, renditions: [Rendition] = [], variants: [VariantStream] = [],
                iFrameVariants: [IFrameVariantStream] = []) {
        self.independentSegments = independentSegments
        self.renditions = renditions
        self.variants = variants
        self.iFrameVariants = iFrameVariants
    }

    public var requiredVersion: Int {
        if renditions.contains(where: { $0.instreamID?.hasPrefix("SERVICE") == true }) { return 7 }
        // KEYFORMAT needs version 5 (RFC 8216bis §7).
        return sessionKeys.contains { $0.keyFormat != nil || $0.keyFormatVersions != nil } ? 5 : 1
    }
}

/// EXT-X-MEDIA (§4.4.6.1).
public struct Rendition: Sendable, Hashable, Codable {
    public enum MediaType: String, Sendable, Codable {
        case audio = "AUDIO", video = "VIDEO", subtitles = "SUBTITLES", closedCaptions = "CLOSED-CAPTIONS"
    }
    public var type: MediaType
    public var groupID: String
    public var name: String
    public var language: String?
    public var isDefault: Bool
    public var autoselect: Bool
    public var forced: Bool
    /// Audio channel count as CHANNELS text ("2", "6").
    public var channels: String?
    public var characteristics: String?
    public var instreamID: String?
    public var uri: String?

    public init(type: MediaType, groupID: String, name: String, uri: String?) {
        self.type = type
        self.groupID = groupID
        self.name = name
        self.uri = uri
        self.isDefault = false
        self.autoselect = true
        self.forced = false
    }
}

/// EXT-X-STREAM-INF (§4.4.6.2).
public struct VariantStream: Sendable, Hashable, Codable {
    public var uri: String
    /// Peak segment bit rate, bits per second.
    public var bandwidth: Int
    public var averageBandwidth: Int?
    public var codecs: [String]
    public var resolution: (width: Int, height: Int)?
    public var frameRate: Double?
    public var videoRange: String?
    public var audioGroup: String?
    public var subtitlesGroup: String?
    public var closedCaptions: String?

    public init(uri: String, bandwidth: Int) {
        self.uri = uri
        self.bandwidth = bandwidth
        self.codecs = []
    }

    public static func == (a: VariantStream, b: VariantStream) -> Bool {
        a.uri == b.uri && a.bandwidth == b.bandwidth && a.averageBandwidth == b.averageBandwidth && a.codecs == b.codecs
            && a.resolution?.width == b.resolution?.width && a.resolution?.height == b.resolution?.height
            && a.frameRate == b.frameRate && a.videoRange == b.videoRange && a.audioGroup == b.audioGroup
            && a.subtitlesGroup == b.subtitlesGroup && a.closedCaptions == b.closedCaptions
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(uri); hasher.combine(bandwidth) }

    enum CodingKeys: String, CodingKey {
        case uri, bandwidth, averageBandwidth, codecs, width, height, frameRate, videoRange, audioGroup,
             subtitlesGroup, closedCaptions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        uri = try c.decode(String.self, forKey: .uri)
        bandwidth = try c.decode(Int.self, forKey: .bandwidth)
        averageBandwidth = try c.decodeIfPresent(Int.self, forKey: .averageBandwidth)
        codecs = try c.decode([String].self, forKey: .codecs)
        if let w = try c.decodeIfPresent(Int.self, forKey: .width), let h = try c.decodeIfPresent(Int.self, forKey: .height) {
            resolution = (w, h)
        }
        frameRate = try c.decodeIfPresent(Double.self, forKey: .frameRate)
        videoRange = try c.decodeIfPresent(String.self, forKey: .videoRange)
        audioGroup = try c.decodeIfPresent(String.self, forKey: .audioGroup)
        subtitlesGroup = try c.decodeIfPresent(String.self, forKey: .subtitlesGroup)
        closedCaptions = try c.decodeIfPresent(String.self, forKey: .closedCaptions)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(uri, forKey: .uri)
        try c.encode(bandwidth, forKey: .bandwidth)
        try c.encodeIfPresent(averageBandwidth, forKey: .averageBandwidth)
        try c.encode(codecs, forKey: .codecs)
        try c.encodeIfPresent(resolution?.width, forKey: .width)
        try c.encodeIfPresent(resolution?.height, forKey: .height)
        try c.encodeIfPresent(frameRate, forKey: .frameRate)
        try c.encodeIfPresent(videoRange, forKey: .videoRange)
        try c.encodeIfPresent(audioGroup, forKey: .audioGroup)
        try c.encodeIfPresent(subtitlesGroup, forKey: .subtitlesGroup)
        try c.encodeIfPresent(closedCaptions, forKey: .closedCaptions)
    }
}

/// EXT-X-I-FRAME-STREAM-INF (§4.4.6.3).
public struct IFrameVariantStream: Sendable, Hashable, Codable {
    public var uri: String
    public var bandwidth: Int
    public var averageBandwidth: Int?
    public var codecs: [String]
    public var width: Int?
    public var height: Int?
    public var videoRange: String?

    public init(uri: String, bandwidth: Int, codecs: [String]) {
        self.uri = uri
        self.bandwidth = bandwidth
        self.codecs = codecs
    }
}
