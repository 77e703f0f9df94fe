/// What a packaging run wrote (`kerf package --json`).
public struct PackageSummary: Sendable, Codable {
    public struct Rendition: Sendable, Codable {
        public var type: String
        public var folder: String
        public var input: String
        public var stream: Int
        public var codec: String
        public var codecs: String?
        public var width: Int?
        public var height: Int?
        public var language: String?
        public var name: String
        public var segments: Int
        public var peakBitRate: Int
        public var averageBitRate: Int
        public var duration: Double
        public var files: [String]
    }

    /// An MPEG-TS variant (`--formats hls-ts`): its folder and files.
    public struct TSVariant: Sendable, Codable {
        public var folder: String
        public var renditions: [String]
        public var segments: Int
        public var files: [String]
    }

    /// One re-encoded rendition of a ladder and what encoding it cost.
    public struct Rung: Sendable, Codable {
        public var name: String
        public var width: Int
        public var height: Int
        public var bitRate: Int
        public var encoder: String
        public var frames: Int
        /// CPU seconds the rung's thread spent scaling and encoding.
        public var cpuSeconds: Double

        public init(name: String, width: Int, height: Int, bitRate: Int, encoder: String, frames: Int, cpuSeconds: Double) {
            self.name = name
            self.width = width
            self.height = height
            self.bitRate = bitRate
            self.encoder = encoder
            self.frames = frames
            self.cpuSeconds = cpuSeconds
        }
    }

    /// What was re-encoded and how (absent when everything was stream-copied).
    public struct Transcoding: Sendable, Codable {
        /// One line per stream decision and per encoder candidate tried.
        public var decisions: [String]
        public var rungs: [Rung]
        /// Corrupt packets skipped while decoding.
        public var skippedPackets: Int
        /// Stream-copy passes made before re-encoding: 0 when the inputs' streams and keyframe
        /// indexes decided it before reading, 1 when a pass found the problem while reading.
        public var streamCopyPasses: Int

        public init(decisions: [String], rungs: [Rung], skippedPackets: Int, streamCopyPasses: Int = 0) {
            self.decisions = decisions
            self.rungs = rungs
            self.skippedPackets = skippedPackets
            self.streamCopyPasses = streamCopyPasses
        }
    }

    /// A splice listed in the manifests: where it was signalled and where segments start.
    public struct Splice: Sendable, Codable {
        public var id: String
        public var eventID: UInt32
        /// "break" or "command".
        public var kind: String
        /// Seconds from the presentation start: the time signalled, the time the break starts
        /// (a segment boundary) and how much later that is (0 when a keyframe was there).
        public var signalled: Double
        public var start: Double
        public var shift: Double
        /// Where the break returns (a segment boundary), and how much later than signalled.
        public var end: Double?
        public var endShift: Double?
        public var plannedDuration: Double?
    }

    public var output: String
    public var duration: Double
    public var segmentDuration: Double
    public var manifests: [String]
    public var renditions: [Rendition]
    public var tsVariants: [TSVariant]
    public var transcoding: Transcoding?
    /// The splices listed (absent when there are none).
    public var splices: [Splice]?
}
