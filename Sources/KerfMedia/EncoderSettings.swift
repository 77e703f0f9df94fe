import KerfCore

/// How to configure an `Encoder`. Video fields are ignored for audio encoders and vice versa.
public struct EncoderSettings: Sendable, Equatable {
    /// libavcodec encoder name: "libx264", "h264_nvenc", "aac"…
    public var codecName: String
    /// Time base of the frames that will be sent, and of the packets produced.
    public var timeBase: Rational

    public var width: Int?
    public var height: Int?
    /// Pixel format name ("yuv420p", "nv12", "cuda"); `nil` for the encoder's first supported.
    public var pixelFormat: String?
    public var frameRate: Rational?
    public var sampleAspectRatio: Rational?
    /// Frames between keyframes (GOP length); `nil` for the encoder's default.
    public var gopSize: Int?
    public var maxBFrames: Int?

    public var sampleRate: Int?
    public var channels: Int?
    /// Sample format name ("fltp", "s16"); `nil` for the encoder's first supported.
    public var sampleFormat: String?

    /// Target, maximum and VBV buffer bitrates in bits per second.
    public var bitRate: Int?
    public var maxRate: Int?
    public var bufferSize: Int?
    public var threads: Int
    /// Put parameter sets in extradata rather than in-band (needed for MP4/CMAF output).
    public var globalHeader: Bool
    /// Encoder-private options (`preset`, `x264-params`, `rc`…). Options the encoder does not
    /// recognise make `open()` fail.
    public var options: [String: String]

    public init(codecName: String, timeBase: Rational) {
        self.codecName = codecName
        self.timeBase = timeBase
        self.threads = 0
        self.globalHeader = true
        self.options = [:]
    }
}
