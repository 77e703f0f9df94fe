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

    public var output: String
    public var duration: Double
    public var segmentDuration: Double
    public var manifests: [String]
    public var renditions: [Rendition]
    public var tsVariants: [TSVariant]
}
