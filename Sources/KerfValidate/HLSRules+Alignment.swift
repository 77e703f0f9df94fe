import KerfCore
import KerfManifest

/// Whether the renditions a variant plays together cover the same time (RFC 8216bis §6.2.4:
/// content that one has and another lacks sits at the beginning or the end and lasts at most a
/// target duration), measured with EXT-X-PROGRAM-DATE-TIME.
extension HLSRules {
    /// A variant's own media playlist and one AUDIO or VIDEO rendition of its groups, as resolved
    /// locations and as the multivariant playlist writes them, with the line of the variant's URI.
    struct RenditionPair: Hashable, Sendable {
        var variant: String
        var rendition: String
        var line: Int
        var variantURI: String
        var renditionURI: String
    }

    /// The pairs a multivariant playlist names, each once.
    static func renditionPairs(_ document: HLSDocument, location: String) -> [RenditionPair] {
        var groups: [String: [(location: String, uri: String)]] = [:]
        for media in document.tags("EXT-X-MEDIA") {
            guard let attributes = media.attributes, let type = attributes[attribute: "TYPE"]?.value, type == "AUDIO" || type == "VIDEO",
                  let group = attributes[attribute: "GROUP-ID"]?.unquoted, let uri = attributes[attribute: "URI"]?.unquoted else { continue }
            groups["\(type)|\(group)", default: []].append((ResourceLoader.resolve(uri, against: location), uri))
        }
        var pairs: [RenditionPair] = []
        var seen = Set<[String]>()
        var pending: [HLSDocument.Attribute]?
        for line in document.lines {
            switch line.content {
            case .tag("EXT-X-STREAM-INF", _, let attributes): pending = attributes ?? []
            case .uri(let uri):
                guard let attributes = pending else { continue }
                pending = nil
                let variant = ResourceLoader.resolve(uri, against: location)
                for type in ["AUDIO", "VIDEO"] {
                    guard let group = attributes[attribute: type]?.unquoted else { continue }
                    for rendition in groups["\(type)|\(group)"] ?? []
                    where rendition.location != variant && seen.insert([variant, rendition.location]).inserted {
                        pairs.append(RenditionPair(variant: variant, rendition: rendition.location, line: line.number,
                                                   variantURI: uri, renditionURI: rendition.uri))
                    }
                }
            default: break
            }
        }
        return pairs
    }

    /// When a playlist's first segment starts and its last ends, in seconds since the epoch: from
    /// the first and the last EXT-X-PROGRAM-DATE-TIME, counted on by the EXTINF durations.
    static func datedSpan(_ playlist: MediaPlaylist) -> (start: Double, end: Double)? {
        let segments = playlist.segments
        guard let first = segments.firstIndex(where: { $0.programDateTime != nil }),
              let last = segments.lastIndex(where: { $0.programDateTime != nil }),
              let firstDate = segments[first].programDateTime.flatMap(UTCTime.parseXSDateTime),
              let lastDate = segments[last].programDateTime.flatMap(UTCTime.parseXSDateTime) else { return nil }
        let before = segments[..<first].reduce(0) { $0 + $1.duration.seconds }
        let after = segments[last...].reduce(0) { $0 + $1.duration.seconds }
        return (firstDate - before, lastDate + after)
    }

    /// Where `hls.renditions-start-apart` comes from: no specification asks for more than §6.2.4.
    static let startReference = "player practice: Chromium's HLS player"

    /// `hls.renditions-misaligned` for one pair loaded at about the same time, else
    /// `hls.renditions-start-apart` when they begin more than half a target duration apart, or
    /// nil when they agree or either has no dates.
    static func alignment(_ pair: RenditionPair, variant: MediaPlaylist, rendition: MediaPlaylist, file: String) -> Finding? {
        guard let a = datedSpan(variant), let b = datedSpan(rendition) else { return nil }
        return alignment(pair, a, b, variant: variant, rendition: rendition, basis: datesBasis, file: file)
    }

    /// What `datedSpan` measures, as findings name it.
    static let datesBasis = "EXT-X-PROGRAM-DATE-TIME"

    /// The same for the pair's spans `a` (the variant's) and `b` measured on one basis (dates,
    /// or the segments' timestamps), against the larger of the two playlists' target durations.
    static func alignment(_ pair: RenditionPair, _ a: (start: Double, end: Double), _ b: (start: Double, end: Double),
                          variant: MediaPlaylist, rendition: MediaPlaylist, basis: String, file: String) -> Finding? {
        let target = Double(max(variant.targetDuration, rendition.targetDuration))
        func names(_ gap: Double) -> (earlier: String, later: String) {
            gap > 0 ? (pair.variantURI, pair.renditionURI) : (pair.renditionURI, pair.variantURI)
        }
        func finding(_ rule: String, _ severity: Finding.Severity, _ message: String, _ reference: String) -> Finding {
            Finding(rule: rule, severity: severity, message: message, file: file, line: pair.line, reference: reference)
        }
        let startGap = b.start - a.start, endGap = b.end - a.end
        for (gap, verb) in [(startGap, "starts"), (endGap, "ends")] where abs(gap) > target + 0.0005 {
            let (earlier, later) = names(gap)
            return finding("hls.renditions-misaligned", .error,
                           "\(later) \(verb) \(formatSeconds(abs(gap))) s after \(earlier) (\(basis)), "
                            + "more than the target duration (\(formatSeconds(target)) s) one may have that the other lacks", "\(rfc) §6.2.4")
        }
        if abs(startGap) > target / 2 + 0.0005 {
            let (earlier, later) = names(startGap)
            return finding("hls.renditions-start-apart", .warning,
                           "\(later) starts \(formatSeconds(abs(startGap))) s after \(earlier) (\(basis)), more than half "
                            + "the target duration: a player starting both where \(earlier) starts has no \(later) there", startReference)
        }
        return nil
    }
}
