/// What a track (an FFmpeg stream) is, copied out of the container at open time.
///
/// Every field is a plain Swift value; nothing here borrows C memory. Fields that the container
/// does not declare are `nil`, never a sentinel such as 0 or "unknown".
public struct TrackInfo: Sendable, Hashable, Codable {
    public enum MediaType: String, Sendable, Codable {
        case video, audio, subtitle, data, attachment, unknown
    }

    /// Interlacing as the container or bitstream declares it (`AVFieldOrder`).
    public enum FieldOrder: String, Sendable, Codable {
        case progressive
        case topFieldFirst = "tt"
        case bottomFieldFirst = "bb"
        case topCodedFirstBottomDisplayedFirst = "tb"
        case bottomCodedFirstTopDisplayedFirst = "bt"

        public var isInterlaced: Bool { self != .progressive }
    }

    /// Position of the stream in its container (FFmpeg stream index).
    public var index: Int
    /// Container-level track identifier (MP4 track_ID, TS PID), when there is one.
    public var containerID: Int?
    public var mediaType: MediaType
    /// FFmpeg's codec name ("h264", "hevc", "aac", "mov_text", …).
    public var codec: String
    /// The sample entry / FourCC the container uses ("avc1", "hvc1", "mp4a"), when known.
    public var codecTag: String?
    /// RFC 6381 `codecs` parameter ("avc1.64001f", "mp4a.40.2"), when Kerf can compute it.
    public var codecString: String?
    /// Profile name as FFmpeg reports it ("High", "Main", "LC").
    public var profile: String?
    /// Numeric profile and level as coded in the bitstream, when defined.
    public var profileID: Int?
    public var level: Int?
    /// Seconds per tick of this track's timestamps.
    public var timeBase: Rational
    public var width: Int?
    public var height: Int?
    /// Average frame rate when known, else the container's base rate.
    public var frameRate: Rational?
    public var sampleAspectRatio: Rational?
    public var pixelFormat: String?
    public var fieldOrder: FieldOrder?
    /// Colour transfer characteristics as FFmpeg names them ("bt709", "smpte2084", "arib-std-b67").
    public var transferCharacteristics: String?

    /// HLS VIDEO-RANGE: PQ for SMPTE ST 2084, HLG for ARIB STD-B67, SDR otherwise.
    public var videoRange: String {
        switch transferCharacteristics {
        case "smpte2084": return "PQ"
        case "arib-std-b67": return "HLG"
        default: return "SDR"
        }
    }
    public var sampleRate: Int?
    public var channels: Int?
    /// Channel layout description ("stereo", "5.1(side)").
    public var channelLayout: String?
    /// ISO 639-2 language from the container ("eng", "fra"); `nil` when undetermined ("und").
    public var language: String?
    /// Declared bitrate in bits per second, when the container or codec states one.
    public var bitRate: Int?
    public var startTime: MediaTime?
    public var duration: MediaTime?
    /// Number of frames/samples entries declared by the container, when stated.
    public var frameCount: Int?
    /// Codec-specific setup data (avcC, hvcC, AudioSpecificConfig, dOps…).
    public var extradata: [UInt8]
    /// The container marks this track as the default of its type.
    public var isDefault: Bool

    public init(index: Int, mediaType: MediaType, codec: String, timeBase: Rational) {
        self.index = index
        self.mediaType = mediaType
        self.codec = codec
        self.timeBase = timeBase
        self.extradata = []
        self.isDefault = false
    }

    /// The display aspect ratio implied by dimensions and sample aspect ratio, reduced.
    public var displayAspectRatio: Rational? {
        guard let width, let height, height > 0 else { return nil }
        let sar = sampleAspectRatio ?? Rational(1, 1)
        return Rational(Int64(width) * sar.numerator, Int64(height) * sar.denominator).reduced
    }
}
