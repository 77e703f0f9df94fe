import KerfCore
import KerfCrypto
import KerfManifest
import KerfXML

/// A DASH-IF CPIX 2.3 document (Content Protection Information Exchange): the content keys,
/// each DRM system's signalling per key, and the rules saying which key protects which track.
/// Read with `KerfXML` (no DTDs, no entities); elements are matched by local name.
///
/// Supported: plain keys (`pskc:PlainValue`), `explicitIV`, `commonEncryptionScheme`;
/// `DRMSystem` with `PSSH`, `ContentProtectionData` (its `cenc:pssh`, `mspr:pro` and
/// `dashif:Laurl`), `URIExtXKey`, `HLSSignalingData`; `ContentKeyUsageRule` with `VideoFilter`,
/// `AudioFilter` and `BitrateFilter`. Keys encrypted with a document key are refused.
public struct CPIXDocument: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        public var key: ContentKey
        public var explicitIV: [UInt8]?
        public var scheme: ProtectionScheme?
    }

    /// One `DRMSystem` element: a system's signalling for one key.
    public struct System: Sendable, Equatable {
        public var keyID: [UInt8]
        public var signalling: ContentProtection.System
    }

    /// One `ContentKeyUsageRule`: the key of the tracks its filters match.
    public struct UsageRule: Sendable, Equatable {
        public var keyID: [UInt8]
        public var intendedTrackType: String?
        public var videoFilters: [[String: String]] = []
        public var audioFilters: [[String: String]] = []
        public var bitrateFilters: [[String: String]] = []
    }

    public var keys: [Key] = []
    public var systems: [System] = []
    public var rules: [UsageRule] = []

    /// - Parameter source: the document's name in errors (its path).
    /// - Throws: `PackagerError(.invalidOptions)` naming what is wrong and where; never a key.
    public init(bytes: [UInt8], source: String) throws(PackagerError) {
        let root: XMLElement
        do { root = try XMLReader.read(bytes, name: source, maxBytes: 16 << 20) } catch {
            throw PackagerError(.invalidOptions, "CPIX document is not well-formed XML", reason: error.message, file: source)
        }
        func fail(_ message: String) -> PackagerError { PackagerError(.invalidOptions, "CPIX: " + message, file: source) }
        guard root.localName == "CPIX" else { throw fail("the root element is \(root.localName), not CPIX") }
        for element in root.children(named: "ContentKeyList").flatMap({ $0.children(named: "ContentKey") }) {
            keys.append(try Self.contentKey(element, fail: fail))
        }
        guard !keys.isEmpty else { throw fail("the document has no ContentKey") }
        for element in root.children(named: "DRMSystemList").flatMap({ $0.children(named: "DRMSystem") }) {
            systems.append(try Self.system(element, fail: fail))
        }
        for element in root.children(named: "ContentKeyUsageRuleList").flatMap({ $0.children(named: "ContentKeyUsageRule") }) {
            guard let kid = element.attribute("kid").flatMap(Self.uuid) else { throw fail("a ContentKeyUsageRule has no valid kid") }
            var rule = UsageRule(keyID: kid, intendedTrackType: element.attribute("intendedTrackType"))
            for filter in element.children {
                let attributes = Dictionary(filter.attributes.map { ($0.name, $0.value) }) { first, _ in first }
                switch filter.localName {
                case "VideoFilter": rule.videoFilters.append(attributes)
                case "AudioFilter": rule.audioFilters.append(attributes)
                case "BitrateFilter": rule.bitrateFilters.append(attributes)
                case "KeyPeriodFilter", "LabelFilter":
                    throw fail("\(filter.localName) in a ContentKeyUsageRule is not supported for packages")
                default: break
                }
            }
            rules.append(rule)
        }
        for id in systems.map(\.keyID) + rules.map(\.keyID) where !keys.contains(where: { $0.key.keyID == id }) {
            throw fail("kid \(Hex.uuid(id)) is used but not in the ContentKeyList")
        }
    }

    /// The key protecting a track: the one whose usage rule matches it; the only key when the
    /// document has one key and no rules.
    /// - Throws: `.invalidOptions` when no rule or rules of two keys match.
    public func key(for kind: Segmenter.Kind, track: TrackInfo, name: String) throws(PackagerError) -> ContentKey {
        if rules.isEmpty {
            guard keys.count == 1 else {
                throw PackagerError(.invalidOptions, "CPIX: \(keys.count) content keys and no ContentKeyUsageRule to choose among them")
            }
            return keys[0].key
        }
        let matching = Set(rules.filter { $0.matches(kind: kind, track: track) }.map { Hex.string($0.keyID) })
        guard matching.count == 1, let kid = matching.first, let key = keys.first(where: { Hex.string($0.key.keyID) == kid }) else {
            throw PackagerError(.invalidOptions, matching.isEmpty ? "CPIX: no ContentKeyUsageRule matches the \(kind) track \(name)"
                                    : "CPIX: rules of \(matching.count) keys match the \(kind) track \(name)")
        }
        return key.key
    }

    /// The DRM systems' signalling of a key, in document order.
    public func signalling(for keyID: [UInt8]) -> [ContentProtection.System] {
        systems.filter { $0.keyID == keyID }.map(\.signalling)
    }

    // MARK: elements

    static func uuid(_ text: String) -> [UInt8]? {
        let bytes = Hex.bytes(text.filter { $0 != "-" })
        return bytes?.count == 16 ? bytes : nil
    }

    private static func contentKey(_ element: XMLElement, fail: (String) -> PackagerError) throws(PackagerError) -> Key {
        guard let kid = element.attribute("kid").flatMap(uuid) else { throw fail("a ContentKey has no valid kid (a UUID)") }
        let name = "ContentKey \(Hex.uuid(kid))"
        let secret = element.children(named: "Data").flatMap { $0.children(named: "Secret") }.first
        if secret?.children(named: "EncryptedValue").isEmpty == false {
            throw fail("\(name): keys encrypted with a document key are not supported; export the document with plain keys")
        }
        guard let plain = secret?.children(named: "PlainValue").first?.text, let bytes = Base64.decode(plain), bytes.count == 16,
              let aesKey = try? AES128Key(bytes: bytes), let key = try? ContentKey(keyID: kid, key: aesKey) else {
            throw fail("\(name) has no 16-byte key in Data/Secret/PlainValue (base64)")
        }
        var result = Key(key: key)
        if let iv = element.attribute("explicitIV") {
            guard let bytes = Base64.decode(iv), bytes.count == 8 || bytes.count == 16 else {
                throw fail("\(name): explicitIV is not 8 or 16 bytes of base64")
            }
            result.explicitIV = bytes
        }
        if let scheme = element.attribute("commonEncryptionScheme") {
            guard let parsed = ProtectionScheme(rawValue: scheme) else {
                throw fail("\(name): commonEncryptionScheme \(scheme) is not supported (cenc or cbcs)")
            }
            result.scheme = parsed
        }
        return result
    }

    private static func system(_ element: XMLElement, fail: (String) -> PackagerError) throws(PackagerError) -> System {
        guard let kid = element.attribute("kid").flatMap(uuid), let systemID = element.attribute("systemId").flatMap(uuid) else {
            throw fail("a DRMSystem needs kid and systemId (UUIDs)")
        }
        let id = Hex.uuid(systemID), name = "DRMSystem \(id)"
        var signalling = ContentProtection.System(id: id, value: id == ContentProtection.System.playReadyID ? "MSPR 2.0" : nil)
        if let text = element.children(named: "PSSH").first?.text {
            guard let bytes = Base64.decode(text) else { throw fail("\(name): PSSH is not base64") }
            signalling.pssh = try ProtectionSystemHeader.split(bytes, source: "CPIX \(name) PSSH").first
        }
        if let text = element.children(named: "ContentProtectionData").first?.text {
            guard let bytes = Base64.decode(text) else { throw fail("\(name): ContentProtectionData is not base64") }
            try readContentProtectionData(bytes, into: &signalling, fail: { fail("\(name): ContentProtectionData " + $0) })
        }
        let uri = try element.children(named: "URIExtXKey").first?.text.map { text throws(PackagerError) -> String in
            guard let bytes = Base64.decode(text) else { throw fail("\(name): URIExtXKey is not base64") }
            return String(decoding: bytes, as: UTF8.self)
        }
        let media = element.children(named: "HLSSignalingData").first { ($0.attribute("playlist") ?? "media") == "media" }
        if let text = media?.text {
            guard let bytes = Base64.decode(text) else { throw fail("\(name): HLSSignalingData is not base64") }
            signalling.hls = try hlsKeyFormat(bytes, uri: uri, fail: { fail("\(name): HLSSignalingData " + $0) })
        } else if let uri {
            signalling.hls = ContentProtection.HLSKeyFormat(systemID: id, uri: uri)
        } else if id == ContentProtection.System.widevineID, let pssh = signalling.pssh {
            // Without HLS data, Widevine's HLS key is its PSSH (as generated ones are), PlayReady's its header object.
            signalling.hls = .widevine(pssh: pssh)
        } else if id == ContentProtection.System.playReadyID, let object = signalling.playReadyObject {
            signalling.hls = .playReady(object: object)
        }
        return System(keyID: kid, signalling: signalling)
    }

    /// The `cenc:pssh`, `mspr:pro` and `dashif:Laurl` of a ContentProtectionData fragment.
    private static func readContentProtectionData(_ bytes: [UInt8], into system: inout ContentProtection.System,
                                                  fail: (String) -> PackagerError) throws(PackagerError) {
        let wrapped = Array(("<ContentProtection xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:cenc=\"urn:mpeg:cenc:2013\" "
            + "xmlns:mspr=\"urn:microsoft:playready\" xmlns:dashif=\"https://dashif.org/CPS\">").utf8) + bytes + Array("</ContentProtection>".utf8)
        let fragment: XMLElement
        do { fragment = try XMLReader.read(wrapped, name: "ContentProtectionData") } catch {
            throw fail("is not well-formed XML: \(error.message)")
        }
        for child in fragment.children {
            switch child.localName {
            case "pssh":
                guard let bytes = child.text.flatMap(Base64.decode) else { throw fail("has a cenc:pssh that is not base64") }
                system.pssh = try ProtectionSystemHeader.split(bytes, source: "CPIX ContentProtectionData").first
            case "pro":
                guard let bytes = child.text.flatMap(Base64.decode) else { throw fail("has an mspr:pro that is not base64") }
                system.playReadyObject = bytes
            case "Laurl", "laurl":
                system.licenseURL = child.text
            default:
                throw fail("has a \(child.name) element, which Kerf cannot carry into the MPD (supported: cenc:pssh, mspr:pro, dashif:Laurl)")
            }
        }
    }

    /// The KEYFORMAT, KEYFORMATVERSIONS and URI of an HLSSignalingData EXT-X-KEY line.
    private static func hlsKeyFormat(_ bytes: [UInt8], uri: String?, fail: (String) -> PackagerError) throws(PackagerError) -> ContentProtection.HLSKeyFormat {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("#EXT-X-KEY:") || $0.hasPrefix("#EXT-X-SESSION-KEY:") }),
              let document = try? HLSDocument.parse(Array(("#EXTM3U\n" + line).utf8)),
              case .tag(_, _, let attributes?) = document.lines.last?.content else {
            throw fail("holds no #EXT-X-KEY line")
        }
        guard let format = attributes[attribute: "KEYFORMAT"]?.unquoted, let keyURI = uri ?? attributes[attribute: "URI"]?.unquoted else {
            throw fail("has no KEYFORMAT or URI")
        }
        return ContentProtection.HLSKeyFormat(keyFormat: format, keyFormatVersions: attributes[attribute: "KEYFORMATVERSIONS"]?.unquoted,
                                              uri: keyURI)
    }
}

extension CPIXDocument.UsageRule {
    /// Whether the rule's filters match a track: all filter types present must match, any
    /// filter of a type will do. A rule without filters goes by `intendedTrackType` (VIDEO,
    /// SD, HD, UHD… for video; AUDIO for audio; anything else for every track).
    func matches(kind: Segmenter.Kind, track: TrackInfo) -> Bool {
        func number(_ filter: [String: String], _ name: String) -> Double? { filter[name].flatMap(Double.init) }
        func within(_ value: Double?, _ filter: [String: String], _ low: String, _ high: String) -> Bool {
            guard let value else { return number(filter, low) == nil && number(filter, high) == nil }
            return value >= (number(filter, low) ?? -.infinity) && value <= (number(filter, high) ?? .infinity)
        }
        if videoFilters.isEmpty && audioFilters.isEmpty && bitrateFilters.isEmpty {
            switch intendedTrackType?.uppercased() {
            case "AUDIO": return kind == .audio
            case "VIDEO", "SD", "HD", "UHD", "UHD1", "UHD2", "HDR": return kind == .video
            default: return kind != .text
            }
        }
        if !videoFilters.isEmpty {
            let pixels = track.width.flatMap { w in track.height.map { Double(w * $0) } }
            let fps = track.frameRate.map { Double($0.numerator) / Double(max($0.denominator, 1)) }
            guard kind == .video, videoFilters.contains(where: { within(pixels, $0, "minPixels", "maxPixels") && within(fps, $0, "minFps", "maxFps") })
            else { return false }
        }
        if !audioFilters.isEmpty {
            guard kind == .audio, audioFilters.contains(where: { within(track.channels.map(Double.init), $0, "minChannels", "maxChannels") })
            else { return false }
        }
        if !bitrateFilters.isEmpty {
            guard bitrateFilters.contains(where: { within(track.bitRate.map(Double.init), $0, "minBitrate", "maxBitrate") }) else { return false }
        }
        return true
    }
}
