import KerfCore

/// Which input streams to package (`--streams`) and how to present them (`--set`).
public struct StreamSelection: Sendable, Equatable {
    /// One `--streams` item: a stream by input and index, or every stream of a type.
    public enum Selector: Sendable, Equatable {
        case stream(input: Int, index: Int)
        case type(input: Int?, TrackInfo.MediaType)
    }

    /// Presentation overrides for one stream.
    public struct Override: Sendable, Equatable {
        public var language: String?
        public var name: String?
        public var bandwidth: Int?
        public var isDefault: Bool?
        /// Languages and names of the video's closed-caption channels, by INSTREAM-ID.
        public var captions: [String: ClosedCaptions.Label] = [:]
        public init() {}
    }

    /// `nil` selects every packageable stream.
    public var selectors: [Selector]?
    /// Keyed by "input:stream".
    public var overrides: [String: Override]

    public init(selectors: [Selector]? = nil, overrides: [String: Override] = [:]) {
        self.selectors = selectors
        self.overrides = overrides
    }

    /// Parses `--streams`: comma-separated `N:M`, `N:v|a|s` or `v|a|s`.
    public static func parseSelectors(_ text: String) throws(PackagerError) -> [Selector] {
        guard text.contains(where: { !$0.isWhitespace && $0 != "," }) else {
            throw PackagerError(.invalidOptions, "--streams is empty", reason: "name at least one stream")
        }
        return try text.split(separator: ",").map { item throws(PackagerError) -> Selector in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            func type(_ letter: String) -> TrackInfo.MediaType? {
                ["v": .video, "a": .audio, "s": .subtitle][letter]
            }
            switch parts.count {
            case 1:
                if let t = type(parts[0]) { return .type(input: nil, t) }
            case 2:
                if let input = Int(parts[0]), input >= 0 {
                    if let index = Int(parts[1]), index >= 0 { return .stream(input: input, index: index) }
                    if let t = type(parts[1]) { return .type(input: input, t) }
                }
            default: break
            }
            throw PackagerError(.invalidOptions, "bad --streams item '\(item)'",
                                reason: "use input:stream (0:1), input:type (0:a) or type (v, a, s)")
        }
    }

    /// Parses one `--set input:stream:key=value` and merges it into `overrides`.
    public mutating func parseOverride(_ text: String) throws(PackagerError) {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, let input = Int(parts[0]), let index = Int(parts[1]), input >= 0, index >= 0,
              let equals = parts[2].firstIndex(of: "=") else {
            throw PackagerError(.invalidOptions, "bad --set '\(text)'",
                                reason: "use input:stream:key=value, key one of language, name, bandwidth, default, captions")
        }
        let key = String(parts[2][..<equals]), value = String(parts[2][parts[2].index(after: equals)...])
        var entry = overrides["\(input):\(index)"] ?? Override()
        switch key {
        case "language":
            guard (2...8).contains(value.count), value.allSatisfy({ $0.isLetter || $0 == "-" }) else {
                throw PackagerError(.invalidOptions, "bad language '\(value)' in --set", reason: "use an ISO 639 code such as eng")
            }
            entry.language = value
        case "name":
            guard !value.isEmpty, !value.contains("\""), !value.contains(where: \.isNewline) else {
                throw PackagerError(.invalidOptions, "bad name in --set", reason: "a name is non-empty text without quotes")
            }
            entry.name = value
        case "bandwidth":
            guard let bits = Int(value), bits > 0 else {
                throw PackagerError(.invalidOptions, "bad bandwidth '\(value)' in --set", reason: "bits per second, e.g. 128000")
            }
            entry.bandwidth = bits
        case "default":
            guard ["yes", "no", "true", "false"].contains(value) else {
                throw PackagerError(.invalidOptions, "bad default '\(value)' in --set", reason: "yes or no")
            }
            entry.isDefault = value == "yes" || value == "true"
        case "captions":
            entry.captions.merge(try Self.captionLabels(value)) { _, new in new }
        default:
            throw PackagerError(.invalidOptions, "unknown --set key '\(key)'", reason: "use language, name, bandwidth, default or captions")
        }
        overrides["\(input):\(index)"] = entry
    }

    /// `CC1=eng,CC3=spa:Spanish,SERVICE1=eng`: a closed-caption channel's language and,
    /// after a colon, the name players show.
    package static func captionLabels(_ value: String) throws(PackagerError) -> [String: ClosedCaptions.Label] {
        var labels: [String: ClosedCaptions.Label] = [:]
        for untrimmed in value.split(separator: ",") {
            let item = String(untrimmed.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let id = parts.first?.uppercased() ?? ""
            guard ClosedCaptions.isInstreamID(id), parts.count == 2 else {
                throw PackagerError(.invalidOptions, "bad captions '\(item)'",
                                    reason: "use CC1..CC4 or SERVICE1..SERVICE63 = language[:name], e.g. CC1=eng:English")
            }
            let pair = parts[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard (2...8).contains(pair[0].count), pair[0].allSatisfy({ $0.isLetter || $0 == "-" }),
                  pair.count == 1 || (!pair[1].isEmpty && !pair[1].contains("\"")) else {
                throw PackagerError(.invalidOptions, "bad captions '\(item)'",
                                    reason: "a language is an ISO 639 code such as eng; a name is text without quotes")
            }
            labels[id] = ClosedCaptions.Label(language: pair[0], name: pair.count == 2 ? pair[1] : nil)
        }
        return labels
    }

    /// Whether stream `track` of input `input` is selected.
    public func selects(input: Int, track: TrackInfo) -> Bool {
        guard let selectors else { return true }
        return selectors.contains { selector in
            switch selector {
            case .stream(let i, let index): return i == input && index == track.index
            case .type(let i, let type): return (i == nil || i == input) && type == track.mediaType
            }
        }
    }
}
