import KerfCore

extension LivePackager {
    /// A track the live channel publishes.
    public struct Track: Sendable, Codable {
        /// The packager's track number (index in `tracks`).
        public var number: Int
        public var info: TrackInfo
        public var kind: Segmenter.Kind
        /// Folder of the rendition in the channel's URLs ("video_720p").
        public var folder: String
        public var name: String
        public var language: String?
        /// The default rendition of its kind (the first, as in packages).
        public var isDefault: Bool
        /// How its samples are encrypted (Common Encryption), nil when they are clear.
        public var protection: ContentProtection?

        public init(number: Int, info: TrackInfo, kind: Segmenter.Kind, folder: String, name: String, language: String?,
                    isDefault: Bool = false, protection: ContentProtection? = nil) {
            self.number = number
            self.info = info
            self.kind = kind
            self.folder = folder
            self.name = name
            self.language = language
            self.isDefault = isDefault
            self.protection = protection
        }

        private enum CodingKeys: String, CodingKey { case number, info, kind, folder, name, language, isDefault, protection }

        /// Journals written before `isDefault` or `protection` existed read as not default and clear.
        public init(from decoder: any Swift.Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(number: try container.decode(Int.self, forKey: .number), info: try container.decode(TrackInfo.self, forKey: .info),
                      kind: try container.decode(Segmenter.Kind.self, forKey: .kind), folder: try container.decode(String.self, forKey: .folder),
                      name: try container.decode(String.self, forKey: .name),
                      language: try container.decodeIfPresent(String.self, forKey: .language),
                      isDefault: try container.decodeIfPresent(Bool.self, forKey: .isDefault) ?? false,
                      protection: try container.decodeIfPresent(ContentProtection.self, forKey: .protection))
        }
    }
}
