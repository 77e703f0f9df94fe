import KerfManifest

/// `hls.renditions-misaligned` and `hls.renditions-start-apart` over the media playlists a
/// multivariant playlist names.
extension Validator {
    /// Compares every pair of renditions both of whose playlists were read. A live pair that
    /// disagrees is read again and reported only if it still does: a segment published between
    /// two reads moves one playlist's ends. Playlists without dates that `--deep` read
    /// (`measured`, by URI as the multivariant playlist writes it) are compared by their first
    /// segments' timestamps, when neither is live.
    /// - Returns: the findings, and the live pairs not reported (`--live` keeps comparing them).
    func alignmentChecks(_ pairs: [HLSRules.RenditionPair], loaded: [String: MediaPlaylist], measured: [String: Measured], path: String,
                         loader: ResourceLoader) async -> (findings: [Finding], watched: [HLSRules.RenditionPair]) {
        var findings: [Finding] = []
        var watched: [HLSRules.RenditionPair] = []
        for pair in pairs {
            guard let variant = loaded[pair.variant], let rendition = loaded[pair.rendition] else { continue }
            let live = Self.isLive(variant) || Self.isLive(rendition)
            guard let dated = HLSRules.datedSpan(variant), let datedRendition = HLSRules.datedSpan(rendition) else {
                if !live, let a = measured[pair.variantURI]?.start, let b = measured[pair.renditionURI]?.start,
                   let finding = HLSRules.alignment(pair, (a, a + variant.seconds), (b, b + rendition.seconds), variant: variant,
                                                    rendition: rendition, basis: "the first segments' timestamps", file: path) {
                    findings.append(finding)
                }
                continue
            }
            var finding = HLSRules.alignment(pair, dated, datedRendition, variant: variant, rendition: rendition,
                                             basis: HLSRules.datesBasis, file: path)
            if live, finding != nil {
                finding = nil
                if let variant = await reread(pair.variant, loader: loader), let rendition = await reread(pair.rendition, loader: loader) {
                    finding = HLSRules.alignment(pair, variant: variant, rendition: rendition, file: path)
                }
            }
            if let finding {
                findings.append(finding)
            } else if live {
                watched.append(pair)
            }
        }
        return (findings, watched)
    }

    /// A playlist a server may still change: neither EXT-X-ENDLIST nor PLAYLIST-TYPE=VOD.
    static func isLive(_ playlist: MediaPlaylist) -> Bool { !playlist.endList && playlist.playlistType != .vod }

    private func reread(_ location: String, loader: ResourceLoader) async -> MediaPlaylist? {
        guard let loaded = try? await loader.load(location, limit: maxBytes),
              let document = try? HLSDocument.parse(loaded.bytes, limits: .init(maxBytes: maxBytes)) else { return nil }
        return document.mediaPlaylist()
    }
}
