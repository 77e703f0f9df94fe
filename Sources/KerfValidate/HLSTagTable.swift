import KerfManifest

/// The tags of RFC 8216bis (current draft) with their attributes and value types (§4.2), and
/// the checks that follow from them: values of the wrong type, enumerated values outside their
/// set, attributes the tag does not define, required attributes missing, removed tags, tag
/// values that are not of their type. EXT-X-DATERANGE is checked by its own rules.
enum HLSTagTable {
    enum ValueType: Equatable {
        case decimalInteger, hexadecimal, decimalFloat, signedFloat, quoted, resolution
        /// `<n>[@<o>]` (EXT-X-BYTERANGE).
        case byteRange
        /// An enumerated-string from this set.
        case enumerated(Set<String>)
        /// A quoted-string, or an enumerated-string from this set (CLOSED-CAPTIONS=NONE).
        case quotedOr(Set<String>)
        /// Any enumerated-string (METHOD, whose own rule checks the set).
        case anyEnumerated

        var name: String {
            switch self {
            case .decimalInteger: "a decimal-integer"
            case .hexadecimal: "a hexadecimal-sequence"
            case .decimalFloat: "a decimal-floating-point"
            case .signedFloat: "a signed-decimal-floating-point"
            case .quoted: "a quoted-string"
            case .resolution: "a decimal-resolution"
            case .byteRange: "<n>[@<o>] (decimal-integers)"
            case .enumerated(let set): "one of " + set.sorted().joined(separator: ", ")
            case .quotedOr(let set): "a quoted-string or " + set.sorted().joined(separator: ", ")
            case .anyEnumerated: "an enumerated-string"
            }
        }
    }

    struct TagSpec {
        var attributes: [String: ValueType]
        /// Attributes no other rule already requires.
        var required: [String] = []
        var section: String
    }

    static let yes: ValueType = .enumerated(["YES"])
    static let yesNo: ValueType = .enumerated(["YES", "NO"])

    static let keyAttributes: [String: ValueType] = [
        "METHOD": .anyEnumerated, "URI": .quoted, "IV": .hexadecimal, "KEYFORMAT": .quoted, "KEYFORMATVERSIONS": .quoted,
        "KEYID": .hexadecimal,
    ]
    static let variantAttributes: [String: ValueType] = [
        "BANDWIDTH": .decimalInteger, "AVERAGE-BANDWIDTH": .decimalInteger, "SCORE": .decimalFloat, "CODECS": .quoted,
        "SUPPLEMENTAL-CODECS": .quoted, "RESOLUTION": .resolution, "HDCP-LEVEL": .enumerated(["TYPE-0", "TYPE-1", "NONE"]),
        "ALLOWED-CPC": .quoted, "VIDEO-RANGE": .enumerated(["SDR", "HLG", "PQ"]), "REQ-VIDEO-LAYOUT": .quoted,
        "STABLE-VARIANT-ID": .quoted, "VIDEO": .quoted, "PATHWAY-ID": .quoted,
    ]

    /// Tags whose value is an attribute list, DATERANGE aside.
    static let attributeTags: [String: TagSpec] = [
        "EXT-X-START": TagSpec(attributes: ["TIME-OFFSET": .signedFloat, "PRECISE": yesNo], required: ["TIME-OFFSET"], section: "§4.4.2.2"),
        "EXT-X-DEFINE": TagSpec(attributes: ["NAME": .quoted, "VALUE": .quoted, "IMPORT": .quoted, "QUERYPARAM": .quoted], section: "§4.4.2.3"),
        "EXT-X-KEY": TagSpec(attributes: keyAttributes, section: "§4.4.4.4"),
        "EXT-X-MAP": TagSpec(attributes: ["URI": .quoted, "BYTERANGE": .quoted], section: "§4.4.4.5"),
        "EXT-X-PART-INF": TagSpec(attributes: ["PART-TARGET": .decimalFloat], section: "§4.4.3.7"),
        "EXT-X-SERVER-CONTROL": TagSpec(attributes: ["CAN-SKIP-UNTIL": .decimalFloat, "CAN-SKIP-DATERANGES": yes, "HOLD-BACK": .decimalFloat,
                                                     "PART-HOLD-BACK": .decimalFloat, "CAN-BLOCK-RELOAD": yes], section: "§4.4.3.8"),
        "EXT-X-PART": TagSpec(attributes: ["URI": .quoted, "DURATION": .decimalFloat, "INDEPENDENT": yes, "BYTERANGE": .quoted, "GAP": yes],
                              section: "§4.4.4.9"),
        "EXT-X-SKIP": TagSpec(attributes: ["SKIPPED-SEGMENTS": .decimalInteger, "RECENTLY-REMOVED-DATERANGES": .quoted],
                              required: ["SKIPPED-SEGMENTS"], section: "§4.4.5.2"),
        // hls.preload-hint checks TYPE's set.
        "EXT-X-PRELOAD-HINT": TagSpec(attributes: ["TYPE": .anyEnumerated, "URI": .quoted, "BYTERANGE-START": .decimalInteger,
                                                   "BYTERANGE-LENGTH": .decimalInteger], section: "§4.4.5.3"),
        "EXT-X-RENDITION-REPORT": TagSpec(attributes: ["URI": .quoted, "LAST-MSN": .decimalInteger, "LAST-PART": .decimalInteger],
                                          required: ["URI"], section: "§4.4.5.4"),
        "EXT-X-MEDIA": TagSpec(attributes: [
            "TYPE": .enumerated(["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"]), "URI": .quoted, "GROUP-ID": .quoted, "LANGUAGE": .quoted,
            "ASSOC-LANGUAGE": .quoted, "NAME": .quoted, "STABLE-RENDITION-ID": .quoted, "DEFAULT": yesNo, "AUTOSELECT": yesNo,
            "FORCED": yesNo, "INSTREAM-ID": .quoted, "BIT-DEPTH": .decimalInteger, "SAMPLE-RATE": .decimalInteger,
            "CHARACTERISTICS": .quoted, "CHANNELS": .quoted,
        ], section: "§4.4.6.1"),
        "EXT-X-STREAM-INF": TagSpec(attributes: variantAttributes.merging([
            "FRAME-RATE": .decimalFloat, "AUDIO": .quoted, "SUBTITLES": .quoted, "CLOSED-CAPTIONS": .quotedOr(["NONE"]),
        ]) { a, _ in a }, section: "§4.4.6.2"),
        "EXT-X-I-FRAME-STREAM-INF": TagSpec(attributes: variantAttributes.merging(["URI": .quoted]) { a, _ in a }, section: "§4.4.6.3"),
        "EXT-X-SESSION-DATA": TagSpec(attributes: ["DATA-ID": .quoted, "VALUE": .quoted, "URI": .quoted, "FORMAT": .enumerated(["JSON", "RAW"]),
                                                   "LANGUAGE": .quoted], required: ["DATA-ID"], section: "§4.4.6.4"),
        "EXT-X-SESSION-KEY": TagSpec(attributes: keyAttributes, section: "§4.4.6.5"),
        "EXT-X-CONTENT-STEERING": TagSpec(attributes: ["SERVER-URI": .quoted, "PATHWAY-ID": .quoted], required: ["SERVER-URI"], section: "§4.4.6.6"),
    ]

    /// Tags whose value is not an attribute list: the value's type, nil for tags without a value.
    static let valueTags: [String: (type: ValueType?, section: String)] = [
        "EXTM3U": (nil, "§4.4.1.1"), "EXT-X-VERSION": (.decimalInteger, "§4.4.1.2"), "EXT-X-INDEPENDENT-SEGMENTS": (nil, "§4.4.2.1"),
        "EXT-X-MEDIA-SEQUENCE": (.decimalInteger, "§4.4.3.2"), "EXT-X-DISCONTINUITY-SEQUENCE": (.decimalInteger, "§4.4.3.3"),
        "EXT-X-ENDLIST": (nil, "§4.4.3.4"), "EXT-X-PLAYLIST-TYPE": (.enumerated(["EVENT", "VOD"]), "§4.4.3.5"),
        "EXT-X-I-FRAMES-ONLY": (nil, "§4.4.3.6"), "EXT-X-DISCONTINUITY": (nil, "§4.4.4.3"), "EXT-X-GAP": (nil, "§4.4.4.7"),
        "EXT-X-BITRATE": (.decimalInteger, "§4.4.4.8"), "EXT-X-BYTERANGE": (.byteRange, "§4.4.4.2"),
    ]

    /// Tags removed from the protocol, with the version that removed them.
    static let removedTags: [String: Int] = ["EXT-X-ALLOW-CACHE": 7]

    static func conforms(_ value: String, to type: ValueType) -> Bool {
        let quoted = value.count >= 2 && value.first == "\"" && value.last == "\""
        switch type {
        case .quoted: return quoted
        case .decimalInteger: return isDecimalInteger(Substring(value))
        case .hexadecimal:
            let digits = value.dropFirst(2)
            return (value.hasPrefix("0x") || value.hasPrefix("0X")) && !digits.isEmpty && digits.allSatisfy(\.isHexDigit)
        case .decimalFloat: return isDecimalFloat(Substring(value))
        case .signedFloat: return isDecimalFloat(value.hasPrefix("-") ? value.dropFirst() : Substring(value))
        case .resolution:
            let parts = value.split(separator: "x", omittingEmptySubsequences: false)
            return parts.count == 2 && parts.allSatisfy(isDecimalInteger)
        case .byteRange:
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            return parts.count <= 2 && parts.allSatisfy(isDecimalInteger)
        case .enumerated(let set): return set.contains(value)
        case .quotedOr(let set): return quoted || set.contains(value)
        case .anyEnumerated: return !quoted && !value.contains(where: { $0 == "\"" || $0 == " " })
        }
    }

    /// What is wrong with the content of a quoted-string whose attribute restricts it, or nil:
    /// stable IDs (§4.4.6.1, §4.4.6.2), Pathway IDs (§4.4.6.2) and CHANNELS (§4.4.6.1).
    static func formatProblem(_ attribute: HLSDocument.Attribute) -> String? {
        let text = attribute.unquoted
        guard !text.contains("{$") else { return nil }
        func only(_ extra: String) -> Bool {
            !text.isEmpty && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || extra.unicodeScalars.contains($0) }
        }
        switch attribute.name {
        case "STABLE-VARIANT-ID", "STABLE-RENDITION-ID":
            return only("+/=.-_") ? nil : "holds characters other than [a-zA-Z0-9+/=.-_]"
        case "PATHWAY-ID":
            return only("-._") ? nil : "holds characters other than [a-zA-Z0-9-._]"
        case "CHANNELS":
            let count = text.split(separator: "/", omittingEmptySubsequences: false).first ?? ""
            return isDecimalInteger(count) ? nil : "does not start with a decimal-integer count of channels"
        default:
            return nil
        }
    }

    /// 0 to 2^64-1 in decimal digits (§4.2).
    static func isDecimalInteger(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 20 && text.utf8.allSatisfy { (0x30...0x39).contains($0) } && UInt64(text) != nil
    }

    static func isDecimalFloat(_ text: Substring) -> Bool {
        // Digits with at most one '.' ("2", "2.5", and leniently "2." and ".5").
        text.utf8.contains { (0x30...0x39).contains($0) } && text.utf8.filter { $0 == 0x2e }.count <= 1
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || $0 == 0x2e }
    }
}
