import KerfCore

/// What a container is, copied out of libavformat at open time.
public struct ContainerInfo: Sendable, Hashable, Codable {
    /// libavformat's demuxer name ("mov,mp4,m4a,3gp,3g2,mj2", "mpegts").
    public var formatName: String
    public var formatLongName: String?
    public var duration: MediaTime?
    public var startTime: MediaTime?
    /// Overall bitrate in bits per second, when known.
    public var bitRate: Int?
    /// Size in bytes, when the input is seekable.
    public var size: Int64?
    /// Container-level metadata tags (title, encoder…), sorted by key on output.
    public var tags: [String: String]

    /// `formatName` alone, for a container known without libavformat (packets made elsewhere).
    public init(formatName: String, formatLongName: String? = nil, duration: MediaTime? = nil, startTime: MediaTime? = nil,
                bitRate: Int? = nil, size: Int64? = nil, tags: [String: String] = [:]) {
        self.formatName = formatName
        self.formatLongName = formatLongName
        self.duration = duration
        self.startTime = startTime
        self.bitRate = bitRate
        self.size = size
        self.tags = tags
    }
}
