/// The closed captions a video track carries in its pictures (ATSC A/53 Part 4 user data in
/// H.264/HEVC SEI): which CEA-608 channels and CEA-708 services hold caption data. Captions stay
/// in the video; manifests only signal them (HLS `CLOSED-CAPTIONS` renditions, DASH
/// `Accessibility`).
public struct ClosedCaptions: Sendable, Hashable, Codable {
    /// CEA-608 caption channels with data, 1–4 (CC1 and CC2 in field 1, CC3 and CC4 in field 2).
    public var cea608: [Int]
    /// CEA-708 (DTVCC) caption services with data, 1–63.
    public var cea708: [Int]
    /// What the operator says each one is, by INSTREAM-ID ("CC1", "SERVICE1").
    public var labels: [String: Label]

    /// A caption channel's language and the name players show.
    public struct Label: Sendable, Hashable, Codable {
        /// ISO 639 language code ("eng").
        public var language: String?
        public var name: String?

        public init(language: String? = nil, name: String? = nil) {
            self.language = language
            self.name = name
        }
    }

    public init(cea608: [Int] = [], cea708: [Int] = [], labels: [String: Label] = [:]) {
        self.cea608 = cea608
        self.cea708 = cea708
        self.labels = labels
    }

    public var isEmpty: Bool { cea608.isEmpty && cea708.isEmpty }

    /// HLS INSTREAM-ID values (RFC 8216bis §4.4.6.1): "CC1"…"CC4", then "SERVICE1"…"SERVICE63".
    public var instreamIDs: [String] { cea608.map { "CC\($0)" } + cea708.map { "SERVICE\($0)" } }

    /// Whether `id` is an INSTREAM-ID of closed captions: CC1–CC4 or SERVICE1–SERVICE63,
    /// digits without sign or leading zero.
    public static func isInstreamID(_ id: String) -> Bool {
        func number(_ digits: Substring, _ range: ClosedRange<Int>) -> Bool {
            digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) && digits.first != "0" && Int(digits).map(range.contains) == true
        }
        if id.hasPrefix("SERVICE") { return number(id.dropFirst(7), 1...63) }
        return id.hasPrefix("CC") && number(id.dropFirst(2), 1...4)
    }

    /// Both sets together (an AdaptationSet's Representations), labels of `self` first.
    public func union(_ other: ClosedCaptions) -> ClosedCaptions {
        ClosedCaptions(cea608: Array(Set(cea608 + other.cea608)).sorted(), cea708: Array(Set(cea708 + other.cea708)).sorted(),
                       labels: labels.merging(other.labels) { mine, _ in mine })
    }

    /// The name players show for a channel: its label's, else the INSTREAM-ID with the language.
    public func name(of instreamID: String) -> String {
        if let name = labels[instreamID]?.name { return name }
        return labels[instreamID]?.language.map { "\(instreamID) (\($0))" } ?? instreamID
    }
}
