import KerfCore

extension HLSDocument {
    /// The Media Playlist this document describes, read leniently: values that do not parse are
    /// left out (the validator reports them; this view only carries what is usable).
    public func mediaPlaylist() -> MediaPlaylist {
        var playlist = MediaPlaylist(targetDuration: 0)
        var pending = MediaSegment(uri: "", duration: .zero(timescale: 1_000_000))
        var hasInfo = false
        /// End of the previous byte range and its resource, for ranges without an offset (§4.4.4.2).
        var previousRange: (uri: String, end: Int)?
        for line in lines {
            switch line.content {
            case .tag(let name, let value, let attributes):
                switch name {
                case "EXT-X-TARGETDURATION": playlist.targetDuration = value.flatMap { Int($0) } ?? 0
                case "EXT-X-MEDIA-SEQUENCE": playlist.mediaSequence = value.flatMap { UInt64($0) } ?? 0
                case "EXT-X-DISCONTINUITY-SEQUENCE": playlist.discontinuitySequence = value.flatMap { UInt64($0) } ?? 0
                case "EXT-X-PLAYLIST-TYPE": playlist.playlistType = value.flatMap { MediaPlaylist.PlaylistType(rawValue: $0) }
                case "EXT-X-INDEPENDENT-SEGMENTS": playlist.independentSegments = true
                case "EXT-X-I-FRAMES-ONLY": playlist.iFramesOnly = true
                case "EXT-X-ENDLIST": playlist.endList = true
                case "EXTINF":
                    let parts = (value ?? "").split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
                    pending.duration = parts.first.flatMap { HLSDocument.decimal(String($0)) } ?? .zero(timescale: 1_000_000)
                    pending.title = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
                    hasInfo = true
                case "EXT-X-BYTERANGE": pending.byteRange = value.flatMap(HLSDocument.byteRange)
                case "EXT-X-DISCONTINUITY": pending.discontinuity = true
                case "EXT-X-PROGRAM-DATE-TIME": pending.programDateTime = value
                case "EXT-X-MAP":
                    if let uri = attributes?[attribute: "URI"]?.unquoted {
                        pending.map = HLSMap(uri: uri, byteRange: attributes?[attribute: "BYTERANGE"].flatMap { HLSDocument.byteRange($0.unquoted) })
                    }
                case "EXT-X-KEY":
                    if let method = attributes?[attribute: "METHOD"].flatMap({ HLSKey.Method(rawValue: $0.value) }) {
                        // EXT-X-KEY tags of other KEYFORMATs before one segment all apply (§4.4.4.4);
                        // a KEYFORMAT given again replaces its earlier key.
                        let key = HLSKey(method: method, uri: attributes?[attribute: "URI"]?.unquoted,
                                         iv: attributes?[attribute: "IV"]?.value,
                                         keyFormat: attributes?[attribute: "KEYFORMAT"]?.unquoted,
                                         keyFormatVersions: attributes?[attribute: "KEYFORMATVERSIONS"]?.unquoted,
                                         keyID: attributes?[attribute: "KEYID"]?.value)
                        pending.keys.removeAll { ($0.keyFormat ?? "identity") == (key.keyFormat ?? "identity") || key.method == .none }
                        pending.keys.append(key)
                    }
                default: break
                }
            case .uri(let uri):
                guard hasInfo else { continue }
                pending.uri = uri
                if var range = pending.byteRange {
                    if range.offset == nil, let previous = previousRange, previous.uri == uri { range.offset = previous.end }
                    pending.byteRange = range
                    let (end, overflow) = (range.offset ?? 0).addingReportingOverflow(range.length)
                    previousRange = overflow ? nil : (uri, end)
                } else {
                    previousRange = nil
                }
                playlist.segments.append(pending)
                pending = MediaSegment(uri: "", duration: .zero(timescale: 1_000_000))
                hasInfo = false
            case .comment, .blank:
                break
            }
        }
        return playlist
    }

    /// The Multivariant Playlist this document describes, read leniently.
    public func multivariantPlaylist() -> MultivariantPlaylist {
        var playlist = MultivariantPlaylist(independentSegments: false)
        var pendingVariant: [Attribute]? = nil
        for line in lines {
            switch line.content {
            case .tag("EXT-X-INDEPENDENT-SEGMENTS", _, _):
                playlist.independentSegments = true
            case .tag("EXT-X-MEDIA", _, let attributes?):
                guard let type = attributes[attribute: "TYPE"].flatMap({ Rendition.MediaType(rawValue: $0.value) }),
                      let group = attributes[attribute: "GROUP-ID"]?.unquoted,
                      let name = attributes[attribute: "NAME"]?.unquoted else { continue }
                var r = Rendition(type: type, groupID: group, name: name, uri: attributes[attribute: "URI"]?.unquoted)
                r.language = attributes[attribute: "LANGUAGE"]?.unquoted
                r.isDefault = attributes[attribute: "DEFAULT"]?.value == "YES"
                r.autoselect = attributes[attribute: "AUTOSELECT"]?.value == "YES"
                r.forced = attributes[attribute: "FORCED"]?.value == "YES"
                r.channels = attributes[attribute: "CHANNELS"]?.unquoted
                r.characteristics = attributes[attribute: "CHARACTERISTICS"]?.unquoted
                r.instreamID = attributes[attribute: "INSTREAM-ID"]?.unquoted
                playlist.renditions.append(r)
            case .tag("EXT-X-SESSION-KEY", _, let attributes?):
                guard let method = attributes[attribute: "METHOD"].flatMap({ HLSKey.Method(rawValue: $0.value) }) else { continue }
                playlist.sessionKeys.append(HLSKey(method: method, uri: attributes[attribute: "URI"]?.unquoted,
                                                   iv: attributes[attribute: "IV"]?.value,
                                                   keyFormat: attributes[attribute: "KEYFORMAT"]?.unquoted,
                                                   keyFormatVersions: attributes[attribute: "KEYFORMATVERSIONS"]?.unquoted,
                                                   keyID: attributes[attribute: "KEYID"]?.value))
            case .tag("EXT-X-STREAM-INF", _, let attributes):
                pendingVariant = attributes ?? []
            case .tag("EXT-X-I-FRAME-STREAM-INF", _, let attributes?):
                guard let uri = attributes[attribute: "URI"]?.unquoted else { continue }
                var v = IFrameVariantStream(uri: uri, bandwidth: attributes[attribute: "BANDWIDTH"].flatMap { Int($0.value) } ?? 0,
                                            codecs: HLSDocument.codecs(attributes))
                v.averageBandwidth = attributes[attribute: "AVERAGE-BANDWIDTH"].flatMap { Int($0.value) }
                if let (w, h) = attributes[attribute: "RESOLUTION"].flatMap({ HLSDocument.resolution($0.value) }) { v.width = w; v.height = h }
                v.videoRange = attributes[attribute: "VIDEO-RANGE"]?.value
                playlist.iFrameVariants.append(v)
            case .uri(let uri):
                guard let attributes = pendingVariant else { continue }
                var v = VariantStream(uri: uri, bandwidth: attributes[attribute: "BANDWIDTH"].flatMap { Int($0.value) } ?? 0)
                v.averageBandwidth = attributes[attribute: "AVERAGE-BANDWIDTH"].flatMap { Int($0.value) }
                v.codecs = HLSDocument.codecs(attributes)
                v.resolution = attributes[attribute: "RESOLUTION"].flatMap { HLSDocument.resolution($0.value) }
                v.frameRate = attributes[attribute: "FRAME-RATE"].flatMap { Double($0.value) }
                v.videoRange = attributes[attribute: "VIDEO-RANGE"]?.value
                v.audioGroup = attributes[attribute: "AUDIO"]?.unquoted
                v.subtitlesGroup = attributes[attribute: "SUBTITLES"]?.unquoted
                v.closedCaptions = attributes[attribute: "CLOSED-CAPTIONS"].map { $0.isQuoted ? $0.unquoted : $0.value }
                playlist.variants.append(v)
                pendingVariant = nil
            default:
                break
            }
        }
        return playlist
    }

    /// A decimal-floating-point as an exact time in microseconds (`nil` if not a number).
    public static func decimal(_ text: String) -> MediaTime? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.count <= 12,
              wholeText.allSatisfy(\.isASCII), let whole = Int64(wholeText), whole >= 0 else { return nil }
        var micros: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            let digits = String(fraction.prefix(6)) + String(repeating: "0", count: max(0, 6 - fraction.count))
            micros = Int64(digits) ?? 0
            if fraction.count > 6, let next = fraction.dropFirst(6).first, next >= "5" { micros += 1 }
        }
        return MediaTime(value: whole * 1_000_000 + micros, timescale: 1_000_000)
    }

    /// `n[@o]` as a byte range.
    static func byteRange(_ text: String) -> ByteRange? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count <= 2, let length = Int(parts[0]), length >= 0 else { return nil }
        if parts.count == 2 {
            guard let offset = Int(parts[1]), offset >= 0 else { return nil }
            return ByteRange(length: length, offset: offset)
        }
        return ByteRange(length: length, offset: nil)
    }

    static func resolution(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        return (w, h)
    }

    static func codecs(_ attributes: [Attribute]) -> [String] {
        attributes[attribute: "CODECS"].map { $0.unquoted.split(separator: ",").map { $0.trimming { $0 == " " } } } ?? []
    }
}
