import KerfCore
import KerfManifest

package extension LiveWindow {
    /// A rendition's live Media Playlist: the window's segments with EXT-X-MEDIA-SEQUENCE,
    /// EXT-X-DISCONTINUITY-SEQUENCE, EXT-X-PROGRAM-DATE-TIME from the channel's wall clock, and
    /// EXT-X-DISCONTINUITY plus a new EXT-X-MAP where an epoch starts (MPEG-TS variants: no
    /// EXT-X-MAP, `.ts` segments).
    ///
    /// With low latency (`partTarget`), CMAF renditions also carry EXT-X-SERVER-CONTROL,
    /// EXT-X-PART-INF, the parts of the last three target durations and of the segment being
    /// written, a preload hint for the next part and rendition reports; `skip` makes the delta
    /// update (EXT-X-SKIP) for `_HLS_skip=YES`.
    func mediaPlaylist(_ folder: String, skip: Bool = false) -> String {
        guard let rendition = renditions[folder] else { return "" }
        let listed = listed(rendition)
        var playlist = MediaPlaylist(targetDuration: targetDuration)
        playlist.independentSegments = true
        playlist.mediaSequence = listed.first?.sequence ?? rendition.nextSequence
        // The discontinuity sequence number of the first listed segment counts every
        // discontinuity up to and including it; its own tag is then not written.
        let before = rendition.segments[..<listed.startIndex].filter(\.discontinuity).count
        playlist.discontinuitySequence = rendition.discontinuitiesRemoved + UInt64(before)
            + (listed.first?.discontinuity == true ? 1 : 0)
        let lowLatency = partTarget != nil && !rendition.isTransportStream
        let partsFrom = (listed.last.map(rendition.end) ?? 0) - 3 * Double(targetDuration)
        var epoch: Int?
        for (index, stored) in listed.enumerated() {
            var segment = MediaSegment(uri: rendition.fileName(stored),
                                       duration: MediaTime(value: stored.duration, timescale: rendition.timescale))
            segment.discontinuity = stored.discontinuity && index > 0
            if stored.epoch != epoch, !rendition.isTransportStream {
                segment.map = HLSMap(uri: initName(rendition, epoch: stored.epoch))
                epoch = stored.epoch
            }
            segment.programDateTime = UTCTime.xsDateTime(Self.availabilityStart + Double(stored.start) / Double(rendition.timescale))
            if lowLatency && rendition.end(of: stored) > partsFrom {
                segment.parts = rendition.parts.filter { $0.segmentStart == stored.start && $0.epoch == stored.epoch }.map { part(of: $0, rendition) }
            }
            playlist.segments.append(segment)
        }
        if lowLatency, let partTarget {
            var tags = LowLatencyHLS(partTarget: partTarget)
            tags.partHoldBack = MediaTime(value: partTarget.value * 3, timescale: partTarget.timescale)
            tags.canSkipUntil = MediaTime(value: Int64(6 * targetDuration), timescale: 1)
            let current = inProgress(rendition)
            tags.trailingParts = current.parts.map { part(of: $0, rendition) }
            if let start = current.start { tags.preloadHint = "part_\(start)_\(current.parts.count).m4s" }
            for other in activeFolders where other != folder {
                guard let report = renditions[other] else { continue }
                let progress = inProgress(report)
                let last = progress.parts.isEmpty ? report.segments.last?.sequence ?? 0 : progress.sequence
                tags.renditionReports.append(.init(uri: "../\(other)/playlist.m3u8", lastMediaSequence: last,
                                                   lastPart: progress.parts.isEmpty ? nil : progress.parts.count - 1))
            }
            if skip {
                // Segments older than CAN-SKIP-UNTIL from the end are left out; the first one
                // kept carries its EXT-X-MAP again.
                let keepFrom = (listed.last.map(rendition.end) ?? 0) - Double(6 * targetDuration)
                let skipped = zip(listed, playlist.segments).prefix { pair in rendition.end(of: pair.0) <= keepFrom }.count
                if skipped > 0 {
                    let firstKept = listed[listed.startIndex + skipped]
                    playlist.segments.removeFirst(skipped)
                    if !playlist.segments.isEmpty, playlist.segments[0].map == nil {
                        playlist.segments[0].map = HLSMap(uri: initName(rendition, epoch: firstKept.epoch))
                    }
                    tags.skippedSegments = skipped
                }
            }
            playlist.lowLatency = tags
        }
        return HLSWriter.write(playlist)
    }

    private func part(of stored: StoredPart, _ rendition: Rendition) -> LowLatencyHLS.PartialSegment {
        LowLatencyHLS.PartialSegment(uri: stored.fileName, duration: MediaTime(value: stored.duration, timescale: rendition.timescale),
                                     independent: stored.independent)
    }

    /// The multivariant playlist of the current epoch: one variant per video rendition with
    /// the audio renditions as one group (audio-only channels: one variant per audio track).
    func multivariantPlaylist() -> String {
        let tracks = activeFolders.compactMap { renditions[$0] }
        let videos = tracks.filter { $0.track.kind == .video }, audios = tracks.filter { $0.track.kind == .audio }
        var playlist = MultivariantPlaylist()
        func bandwidth(_ r: Rendition) -> Int { max(r.peakBitRate, r.track.info.bitRate ?? 0, 1) }
        if videos.isEmpty {
            for audio in audios {
                var variant = VariantStream(uri: "\(audio.track.folder)/playlist.m3u8", bandwidth: bandwidth(audio))
                variant.codecs = [audio.track.info.codecString].compactMap { $0 }
                playlist.variants.append(variant)
            }
            return HLSWriter.write(playlist)
        }
        for (index, audio) in audios.enumerated() {
            var rendition = KerfManifest.Rendition(type: .audio, groupID: "audio", name: audio.track.name,
                                      uri: "\(audio.track.folder)/playlist.m3u8")
            rendition.language = audio.track.language
            rendition.isDefault = index == 0
            rendition.channels = audio.track.info.channels.map(String.init)
            playlist.renditions.append(rendition)
        }
        for video in videos {
            let info = video.track.info
            var variant = VariantStream(uri: "\(video.track.folder)/playlist.m3u8",
                                        bandwidth: bandwidth(video) + (audios.map(bandwidth).max() ?? 0))
            variant.codecs = [info.codecString, audios.first?.track.info.codecString].compactMap { $0 }
            if let width = info.width, let height = info.height { variant.resolution = (width, height) }
            variant.frameRate = info.frameRate?.doubleValue
            variant.videoRange = info.videoRange
            if !audios.isEmpty { variant.audioGroup = "audio" }
            playlist.variants.append(variant)
        }
        return HLSWriter.write(playlist)
    }

    /// `master-ts.m3u8`: one variant per MPEG-TS rendition, audio muxed in (CODECS names both).
    func transportMultivariantPlaylist(_ folders: [String]) -> String {
        var playlist = MultivariantPlaylist()
        for folder in folders {
            guard let rendition = renditions[folder], let muxed = rendition.muxed else { continue }
            let info = rendition.track.info
            var variant = VariantStream(uri: "\(folder)/playlist.m3u8",
                                        bandwidth: max(rendition.peakBitRate, muxed.compactMap(\.info.bitRate).reduce(0, +), 1))
            variant.codecs = muxed.compactMap(\.info.codecString)
            if let width = info.width, let height = info.height { variant.resolution = (width, height) }
            variant.frameRate = info.frameRate?.doubleValue
            variant.videoRange = info.videoRange
            playlist.variants.append(variant)
        }
        return HLSWriter.write(playlist)
    }
}
