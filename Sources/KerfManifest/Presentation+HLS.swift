import KerfCore

extension Presentation {
    /// A rendition's Media Playlist. A package's lists every segment with EXT-X-PLAYLIST-TYPE:VOD
    /// and EXT-X-ENDLIST; a live one lists the window with EXT-X-MEDIA-SEQUENCE,
    /// EXT-X-DISCONTINUITY-SEQUENCE, EXT-X-PROGRAM-DATE-TIME, EXT-X-DISCONTINUITY and a new
    /// EXT-X-MAP where an epoch starts, and with a part target the LL-HLS tags; `skip` makes
    /// the delta update (EXT-X-SKIP) for `_HLS_skip=YES`. Muxed (MPEG-TS) variants have no
    /// EXT-X-MAP. Nil for an unknown rendition.
    public func mediaPlaylist(_ id: String, _ listing: Listing, skip: Bool = false) -> MediaPlaylist? {
        guard let track = tracks[id] else { return nil }
        let listed = hlsListed(track, listing)
        let hasMap = track.kind == .video || track.kind == .audio
        var segments: [MediaSegment] = []
        var epoch: Int?
        for (index, stored) in listed.enumerated() {
            var segment = MediaSegment(uri: relative(stored.uri, to: track), duration: stored.duration,
                                       byteRange: stored.entry.offset.map { ByteRange(length: stored.size, offset: $0) })
            if let live = listing.live {
                segment.discontinuity = stored.discontinuity && index > 0
                segment.programDateTime = UTCTime.xsDateTime(live.availabilityStart + stored.start.seconds)
            }
            if hasMap, stored.epoch != epoch {
                segment.map = map(track, epoch: stored.epoch)
                epoch = stored.epoch
            }
            segments.append(segment)
        }
        if track.kind != .text { addMarkers(to: &segments, listed: listed, listing: listing) }
        if track.kind != .text, !segments.isEmpty { segments[0].keys = hlsKeys(of: track, listing) }
        // Key rotation: each key period's keys before its first listed segment.
        var period: ContentProtection?
        for (index, stored) in listed.enumerated() {
            guard let protection = stored.entry.protection, protection != period else { continue }
            segments[index].keys = Self.hlsKeys(protection, inRenditionFolder: true)
            period = protection
        }
        guard let live = listing.live else {
            var playlist = MediaPlaylist(targetDuration: MediaPlaylist.targetDuration(for: segments.map(\.duration)), segments: segments)
            playlist.playlistType = .vod
            playlist.independentSegments = track.kind != .text
            playlist.endList = true
            return playlist
        }
        var playlist = MediaPlaylist(targetDuration: live.targetDuration, segments: segments)
        playlist.independentSegments = track.kind != .text
        playlist.mediaSequence = listed.first?.sequence ?? track.nextSequence
        // The discontinuity sequence number of the first listed segment counts every
        // discontinuity up to and including it; its own tag is then not written.
        let before = track.segments[..<listed.startIndex].filter(\.discontinuity).count
        playlist.discontinuitySequence = track.discontinuitiesRemoved + UInt64(before) + (listed.first?.discontinuity == true ? 1 : 0)
        if let partTarget = live.partTarget, hasMap {
            playlist.lowLatency = lowLatency(track, listed: listed, partTarget: partTarget, live: live, skip: skip, playlist: &playlist)
            if track.kind != .text { playlist.lowLatency?.trailingDateRanges = trailingDateRanges(track, listing) }
        }
        return playlist
    }

    /// The LL-HLS tags of a live CMAF playlist: parts of the last three target durations and
    /// of the segment being written, the preload hint, rendition reports; with `skip`, the
    /// segments older than CAN-SKIP-UNTIL are left out of `playlist`.
    private func lowLatency(_ track: Track, listed: ArraySlice<Segment>, partTarget: MediaTime, live: Listing.Live, skip: Bool,
                            playlist: inout MediaPlaylist) -> LowLatencyHLS {
        let target = MediaTime(value: Int64(live.targetDuration), timescale: 1)
        let edge = listed.last.map { $0.start + $0.duration } ?? .zero(timescale: 1)
        let partsFrom = edge - MediaTime(value: 3 * target.value, timescale: 1)
        for (index, stored) in zip(playlist.segments.indices, listed) where stored.start + stored.duration > partsFrom {
            playlist.segments[index].parts = track.parts.filter { $0.segmentStart == stored.start && $0.epoch == stored.epoch }.map { partial($0, of: track) }
        }
        var tags = LowLatencyHLS(partTarget: partTarget)
        tags.partHoldBack = MediaTime(value: partTarget.value * 3, timescale: partTarget.timescale)
        tags.canSkipUntil = MediaTime(value: 6 * target.value, timescale: 1)
        let current = inProgress(track)
        tags.trailingParts = current.parts.map { partial($0, of: track) }
        if let start = current.start { tags.preloadHint = "part_\(start.value)_\(current.parts.count).m4s" }
        for other in activeRenditions where other != track.id {
            guard let report = tracks[other], report.kind != .muxed else { continue }
            let progress = inProgress(report)
            let last = progress.parts.isEmpty ? report.segments.last?.sequence ?? 0 : report.nextSequence
            tags.renditionReports.append(.init(uri: "../\(other)/playlist.m3u8", lastMediaSequence: last,
                                               lastPart: progress.parts.isEmpty ? nil : progress.parts.count - 1))
        }
        if skip {
            // Segments older than CAN-SKIP-UNTIL from the end are left out; the first one kept
            // carries its EXT-X-MAP again.
            let keepFrom = edge - MediaTime(value: 6 * target.value, timescale: 1)
            let skipped = listed.prefix { $0.start + $0.duration <= keepFrom }.count
            if skipped > 0 {
                let firstKept = listed[listed.startIndex + skipped]
                // Without CAN-SKIP-DATERANGES a delta update keeps every EXT-X-DATERANGE: those
                // of skipped segments move to the first one kept (their dates place them).
                let carried = playlist.segments.prefix(skipped).flatMap(\.dateRanges)
                playlist.segments.removeFirst(skipped)
                if !playlist.segments.isEmpty { playlist.segments[0].dateRanges.insert(contentsOf: carried, at: 0) }
                if !playlist.segments.isEmpty, playlist.segments[0].map == nil {
                    playlist.segments[0].map = map(track, epoch: firstKept.epoch)
                }
                tags.skippedSegments = skipped
            }
        }
        return tags
    }

    /// EXT-X-PART of a part, its URI relative to the rendition's playlist like the segments'.
    private func partial(_ part: PartEntry, of track: Track) -> LowLatencyHLS.PartialSegment {
        LowLatencyHLS.PartialSegment(uri: relative(part.uri, to: track), duration: part.duration, independent: part.independent)
    }

    /// The segment being written: its start and its parts so far.
    public func inProgress(_ track: Track) -> (start: MediaTime?, parts: ArraySlice<PartEntry>) {
        let lastStart = track.segments.last?.start
        let first = track.parts.firstIndex { lastStart == nil || $0.segmentStart > lastStart! } ?? track.parts.endIndex
        let parts = track.parts[first...]
        return (parts.first?.segmentStart ?? track.end, parts)
    }

    /// A video rendition's I-frame playlist (EXT-X-I-FRAMES-ONLY), from the keyframes its
    /// segments recorded; nil when none were.
    public func iFramePlaylist(_ id: String, _ listing: Listing) -> MediaPlaylist? {
        guard let track = tracks[id], track.kind == .video else { return nil }
        let keyframes = hlsListed(track, listing).flatMap(\.entry.keyframes)
        guard !keyframes.isEmpty else { return nil }
        var segments = keyframes.map { key in
            MediaSegment(uri: relative(key.uri, to: track), duration: key.duration, byteRange: ByteRange(length: key.length, offset: key.offset))
        }
        segments[0].map = map(track, epoch: track.segments.first?.epoch ?? 0)
        segments[0].keys = track.description.protection.map { Self.hlsKeys($0, inRenditionFolder: true) } ?? []
        var playlist = MediaPlaylist(targetDuration: MediaPlaylist.targetDuration(for: segments.map(\.duration)), segments: segments)
        playlist.iFramesOnly = true
        playlist.independentSegments = true
        if !listing.isLive {
            playlist.playlistType = .vod
            playlist.endList = true
        }
        return playlist
    }

    /// One audio group per codec string, so a variant's CODECS names exactly what its group holds.
    static func audioGroupID(_ track: Track) -> String {
        "audio-" + (track.description.info.codecString ?? track.description.info.codec).replacing(".", with: "-")
    }

    /// The multivariant playlist of the CMAF renditions: a variant per video rendition and audio
    /// group (audio-only presentations: one per audio rendition), audio renditions grouped by
    /// codec, subtitles in group `subs`, an I-frame variant per video rendition with keyframes.
    /// A live listing names the current epoch's renditions.
    public func multivariantPlaylist(_ listing: Listing) -> MultivariantPlaylist {
        var playlist = MultivariantPlaylist()
        let names = Set(listing.isLive ? activeRenditions : order)
        let videos = renditions(.video).filter { names.contains($0.id) }, audios = renditions(.audio).filter { names.contains($0.id) }
        let texts = renditions(.text).filter { names.contains($0.id) }
        for protection in (videos + audios).compactMap(\.description.protection) {
            for key in Self.hlsKeys(protection, inRenditionFolder: false) where !playlist.sessionKeys.contains(key) {
                playlist.sessionKeys.append(key)
            }
        }
        let groups = Dictionary(grouping: audios, by: Self.audioGroupID)
        let groupOrder = audios.map(Self.audioGroupID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if !videos.isEmpty {
            for groupID in groupOrder {
                let members = groups[groupID]!
                let defaultIndex = members.firstIndex { $0.description.isDefault } ?? 0
                for (index, track) in members.enumerated() {
                    var r = Rendition(type: .audio, groupID: groupID, name: track.description.name, uri: "\(track.id)/playlist.m3u8")
                    r.language = track.description.language
                    r.isDefault = index == defaultIndex
                    r.channels = track.description.info.channels.map(String.init)
                    playlist.renditions.append(r)
                }
            }
        }
        let textDefault = texts.firstIndex { $0.description.isDefault } ?? 0
        for (index, track) in texts.enumerated() {
            var r = Rendition(type: .subtitles, groupID: "subs", name: track.description.name, uri: "\(track.id)/playlist.m3u8")
            r.language = track.description.language
            r.isDefault = index == textDefault
            playlist.renditions.append(r)
        }
        let captions = Self.captionSignalling(videos.map(\.description))
        playlist.renditions += captions.renditions
        if videos.isEmpty {
            for track in audios {
                var v = VariantStream(uri: "\(track.id)/playlist.m3u8", bandwidth: track.bandwidth)
                v.averageBandwidth = averageBitRate(track, listing)
                v.codecs = [track.description.info.codecString].compactMap { $0 }
                if !texts.isEmpty { v.subtitlesGroup = "subs" }
                playlist.variants.append(v)
            }
            return playlist
        }
        for track in videos {
            let info = track.description.info
            for groupID in groupOrder.isEmpty ? [nil] : groupOrder.map(Optional.some) {
                let group = groupID.map { groups[$0]! } ?? []
                var v = VariantStream(uri: "\(track.id)/playlist.m3u8", bandwidth: track.bandwidth + (group.map(\.bandwidth).max() ?? 0))
                v.averageBandwidth = averageBitRate(track, listing) + (group.map { averageBitRate($0, listing) }.max() ?? 0)
                v.codecs = [info.codecString, group.first?.description.info.codecString].compactMap { $0 }
                if let w = info.width, let h = info.height { v.resolution = (w, h) }
                v.frameRate = info.frameRate?.doubleValue
                v.videoRange = info.videoRange
                v.audioGroup = groupID
                if !texts.isEmpty { v.subtitlesGroup = "subs" }
                v.closedCaptions = captions.attribute[track.id]
                playlist.variants.append(v)
            }
            let keyframes = hlsListed(track, listing).flatMap(\.entry.keyframes)
            guard !keyframes.isEmpty else { continue }
            let rate = keyframes.map { key in
                key.duration.value > 0
                    ? Int((Double(key.length) * 8 * Double(key.duration.timescale) / Double(key.duration.value)).rounded(.up)) : 0
            }.max() ?? 0
            var iframe = IFrameVariantStream(uri: "\(track.id)/iframes.m3u8", bandwidth: rate, codecs: [info.codecString].compactMap { $0 })
            iframe.width = info.width
            iframe.height = info.height
            iframe.videoRange = info.videoRange
            playlist.iFrameVariants.append(iframe)
        }
        return playlist
    }

    /// The multivariant playlist of the MPEG-TS variants (audio muxed in; CODECS names every
    /// member), with an EXT-X-SESSION-KEY per key of protected variants. Nil when there are none.
    public func transportMultivariantPlaylist(_ listing: Listing) -> MultivariantPlaylist? {
        let names = Set(listing.isLive ? activeRenditions : order)
        let variants = renditions(.muxed).filter { names.contains($0.id) }
        guard !variants.isEmpty else { return nil }
        var playlist = MultivariantPlaylist()
        for protection in variants.compactMap(\.description.protection) {
            for key in Self.hlsKeys(protection, inRenditionFolder: false, withIV: false) where !playlist.sessionKeys.contains(key) {
                playlist.sessionKeys.append(key)
            }
        }
        let captions = Self.captionSignalling(variants.filter { $0.description.info.mediaType == .video }.map(\.description))
        playlist.renditions = captions.renditions
        for track in variants {
            let info = track.description.info
            var v = VariantStream(uri: "\(track.id)/playlist.m3u8", bandwidth: track.bandwidth)
            v.closedCaptions = captions.attribute[track.id]
            v.averageBandwidth = averageBitRate(track, listing)
            v.codecs = track.description.members.compactMap(\.codecString)
            if info.mediaType == .video {
                if let w = info.width, let h = info.height { v.resolution = (w, h) }
                v.frameRate = info.frameRate?.doubleValue
                v.videoRange = info.videoRange
            }
            playlist.variants.append(v)
        }
        return playlist
    }
}
