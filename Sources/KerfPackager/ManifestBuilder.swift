import KerfCore
import KerfManifest

/// Builds the HLS playlists and the DASH MPD of a package from what the track writers recorded.
struct ManifestBuilder {
    let options: PackageOptions
    let runs: [PublishedTrack]
    let timeline: Timeline
    var tsVariants: [TSVariant] = []

    /// Tracks that produced segments (a selected track may carry no sample at all).
    var published: [PublishedTrack] { runs.filter { $0.plan.kind == .text || !$0.segments.isEmpty } }
    var videos: [PublishedTrack] { published.filter { $0.plan.kind == .video } }
    var audios: [PublishedTrack] { published.filter { $0.plan.kind == .audio } }
    var texts: [PublishedTrack] { published.filter { $0.plan.kind == .text } }

    func write(into directory: PackageDirectory) throws -> PackageSummary {
        var manifests: [String] = []
        var files: [Int: [String]] = [:]
        for run in runs {
            let initFiles = run.plan.kind == .text || run.singleFileRanges != nil || run.segments.isEmpty
                ? [] : ["\(run.plan.folder)/init.mp4"]
            files[run.plan.number] = initFiles + Array(Set(run.segments.map(\.path))).sorted()
            if run.plan.kind == .text && !run.segments.isEmpty {
                files[run.plan.number]!.append("\(run.plan.folder)/\(run.plan.folder).vtt")
            }
        }
        if options.formats.contains(.hls) {
            for run in published {
                try directory.write("\(run.plan.folder)/playlist.m3u8", text: HLSWriter.write(mediaPlaylist(run)))
                files[run.plan.number]!.append("\(run.plan.folder)/playlist.m3u8")
                if run.plan.kind == .video && !run.keyframes.isEmpty {
                    try directory.write("\(run.plan.folder)/iframes.m3u8", text: HLSWriter.write(iFramePlaylist(run)))
                    files[run.plan.number]!.append("\(run.plan.folder)/iframes.m3u8")
                }
            }
            try directory.write("master.m3u8", text: HLSWriter.write(multivariant()))
            manifests.append("master.m3u8")
        }
        if options.formats.contains(.hlsTS) {
            for variant in tsVariants {
                try directory.write("\(variant.folder)/playlist.m3u8", text: HLSWriter.write(tsPlaylist(variant)))
            }
            let name = options.formats.contains(.hls) ? "master-ts.m3u8" : "master.m3u8"
            try directory.write(name, text: HLSWriter.write(tsMultivariant()))
            manifests.append(name)
        }
        if options.formats.contains(.dash) {
            try directory.write("manifest.mpd", MPDWriter.write(mpd()))
            manifests.append("manifest.mpd")
        }
        let duration = runs.filter { $0.plan.kind != .text }.map(\.duration).max() ?? .zero(timescale: 1)
        return PackageSummary(
            output: options.output, duration: duration.seconds, segmentDuration: options.segmentDuration.seconds,
            manifests: manifests,
            renditions: runs.map { run in
                PackageSummary.Rendition(
                    type: "\(run.plan.kind)", folder: run.plan.folder, input: run.plan.inputPath, stream: run.plan.info.index,
                    codec: run.plan.info.codec, codecs: run.plan.info.codecString, width: run.plan.info.width,
                    height: run.plan.info.height, language: run.plan.language, name: run.plan.name,
                    segments: run.segments.count, peakBitRate: run.peakBitRate, averageBitRate: run.averageBitRate,
                    duration: run.duration.seconds, files: files[run.plan.number] ?? [])
            },
            tsVariants: tsVariants.map { variant in
                PackageSummary.TSVariant(folder: variant.folder, renditions: variant.tracks.map { runs[$0].plan.folder },
                                         segments: variant.segments.count,
                                         files: variant.segments.map(\.path) + ["\(variant.folder)/playlist.m3u8"])
            })
    }

    // MARK: HLS

    /// URIs in a media playlist are relative to the rendition folder the playlist sits in.
    func relative(_ path: String, _ run: PublishedTrack) -> String {
        let prefix = run.plan.folder + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    func mediaPlaylist(_ run: PublishedTrack) -> MediaPlaylist {
        let ranges = run.singleFileRanges
        var segments = run.segments.map { segment in
            MediaSegment(uri: relative(segment.path, run), duration: segment.durationTime,
                         byteRange: ranges == nil ? nil : ByteRange(length: segment.size, offset: segment.offset))
        }
        if run.plan.kind != .text, !segments.isEmpty {
            segments[0].map = initMap(run)
            segments[0].key = options.encryption?.hlsKey
        }
        var playlist = MediaPlaylist(targetDuration: MediaPlaylist.targetDuration(for: segments.map(\.duration)),
                                     segments: segments)
        playlist.playlistType = .vod
        playlist.independentSegments = run.plan.kind != .text
        playlist.endList = true
        return playlist
    }

    func iFramePlaylist(_ run: PublishedTrack) -> MediaPlaylist {
        var segments = run.keyframes.map { key in
            MediaSegment(uri: relative(key.path, run), duration: MediaTime(value: key.duration, timescale: key.timescale),
                         byteRange: ByteRange(length: key.length, offset: key.offset))
        }
        if !segments.isEmpty { segments[0].map = initMap(run) }
        var playlist = MediaPlaylist(targetDuration: MediaPlaylist.targetDuration(for: segments.map(\.duration)),
                                     segments: segments)
        playlist.playlistType = .vod
        playlist.iFramesOnly = true
        playlist.independentSegments = true
        playlist.endList = true
        return playlist
    }

    /// EXT-X-MAP: the init segment file, or its byte range in a single-file rendition.
    func initMap(_ run: PublishedTrack) -> HLSMap {
        guard let range = run.singleFileRanges?.initRange else { return HLSMap(uri: "init.mp4") }
        return HLSMap(uri: "\(run.plan.folder).mp4", byteRange: ByteRange(length: range.count, offset: range.lowerBound))
    }

    /// One group per codec string, so a variant's CODECS names exactly what its group holds.
    func audioGroupID(_ run: PublishedTrack) -> String {
        "audio-" + (run.plan.info.codecString ?? run.plan.info.codec).replacing(".", with: "-")
    }

    func multivariant() -> MultivariantPlaylist {
        var playlist = MultivariantPlaylist()
        let groups = Dictionary(grouping: audios, by: audioGroupID)
        let groupOrder = audios.map(audioGroupID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if !videos.isEmpty {
            for groupID in groupOrder {
                let members = groups[groupID]!
                let defaultIndex = members.firstIndex { $0.plan.isDefault } ?? 0
                for (index, run) in members.enumerated() {
                    var r = Rendition(type: .audio, groupID: groupID, name: run.plan.name, uri: "\(run.plan.folder)/playlist.m3u8")
                    r.language = run.plan.language
                    r.isDefault = index == defaultIndex
                    r.channels = run.plan.info.channels.map(String.init)
                    playlist.renditions.append(r)
                }
            }
        }
        let textDefault = texts.firstIndex { $0.plan.isDefault } ?? 0
        for (index, run) in texts.enumerated() {
            var r = Rendition(type: .subtitles, groupID: "subs", name: run.plan.name, uri: "\(run.plan.folder)/playlist.m3u8")
            r.language = run.plan.language
            r.isDefault = index == textDefault
            playlist.renditions.append(r)
        }
        if videos.isEmpty {
            for run in audios {
                var v = VariantStream(uri: "\(run.plan.folder)/playlist.m3u8", bandwidth: run.peakBitRate)
                v.averageBandwidth = run.averageBitRate
                v.codecs = [run.plan.info.codecString].compactMap { $0 }
                if !texts.isEmpty { v.subtitlesGroup = "subs" }
                playlist.variants.append(v)
            }
            return playlist
        }
        for run in videos {
            let audioChoices: [String?] = groupOrder.isEmpty ? [nil] : groupOrder
            for groupID in audioChoices {
                let group = groupID.map { groups[$0]! } ?? []
                var v = VariantStream(uri: "\(run.plan.folder)/playlist.m3u8",
                                      bandwidth: run.peakBitRate + (group.map(\.peakBitRate).max() ?? 0))
                v.averageBandwidth = run.averageBitRate + (group.map(\.averageBitRate).max() ?? 0)
                v.codecs = [run.plan.info.codecString, group.first?.plan.info.codecString].compactMap { $0 }
                if let w = run.plan.info.width, let h = run.plan.info.height { v.resolution = (w, h) }
                v.frameRate = run.plan.info.frameRate?.doubleValue
                v.videoRange = run.plan.info.videoRange
                v.audioGroup = groupID
                if !texts.isEmpty { v.subtitlesGroup = "subs" }
                playlist.variants.append(v)
            }
            guard !run.keyframes.isEmpty else { continue }
            var iframe = IFrameVariantStream(uri: "\(run.plan.folder)/iframes.m3u8",
                                             bandwidth: iFrameBitRate(run), codecs: [run.plan.info.codecString].compactMap { $0 })
            iframe.width = run.plan.info.width
            iframe.height = run.plan.info.height
            iframe.videoRange = run.plan.info.videoRange
            playlist.iFrameVariants.append(iframe)
        }
        return playlist
    }

    /// Peak bit rate of the I-frame playlist: keyframe bytes over the interval they stand for.
    func iFrameBitRate(_ run: PublishedTrack) -> Int {
        run.keyframes.map { key in
            key.duration > 0 ? Int((Double(key.length) * 8 * Double(key.timescale) / Double(key.duration)).rounded(.up)) : 0
        }.max() ?? 0
    }

    // MARK: HLS over MPEG-TS

    func tsPlaylist(_ variant: TSVariant) -> MediaPlaylist {
        let ranges = timeline.segments
        var segments = variant.segments.enumerated().map { index, segment in
            MediaSegment(uri: String(segment.path.dropFirst(variant.folder.count + 1)),
                         duration: index < ranges.count ? ranges[index].end - ranges[index].start : .zero(timescale: 1))
        }
        if !segments.isEmpty { segments[0].key = options.encryption?.hlsKey }
        var playlist = MediaPlaylist(targetDuration: MediaPlaylist.targetDuration(for: segments.map(\.duration)),
                                     segments: segments)
        playlist.playlistType = .vod
        playlist.independentSegments = true
        playlist.endList = true
        return playlist
    }

    func tsMultivariant() -> MultivariantPlaylist {
        var playlist = MultivariantPlaylist()
        let ranges = timeline.segments
        for variant in tsVariants {
            let tracks = variant.tracks.map { runs[$0] }
            let rates = variant.segments.enumerated().map { index, segment -> Int in
                let seconds = index < ranges.count ? (ranges[index].end - ranges[index].start).seconds : 0
                return seconds > 0 ? Int((Double(segment.size) * 8 / seconds).rounded(.up)) : 0
            }
            let total = timeline.end.seconds
            var v = VariantStream(uri: "\(variant.folder)/playlist.m3u8", bandwidth: rates.max() ?? 0)
            v.averageBandwidth = total > 0 ? Int((Double(variant.segments.reduce(0) { $0 + $1.size }) * 8 / total).rounded(.up)) : nil
            v.codecs = tracks.compactMap(\.plan.info.codecString)
            if let video = tracks.first(where: { $0.plan.kind == .video }) {
                if let w = video.plan.info.width, let h = video.plan.info.height { v.resolution = (w, h) }
                v.frameRate = video.plan.info.frameRate?.doubleValue
                v.videoRange = video.plan.info.videoRange
            }
            playlist.variants.append(v)
        }
        return playlist
    }

    // MARK: DASH

    func mpd() -> MPD {
        var sets: [AdaptationSet] = []
        var nextID = 0
        func group<K: Hashable>(_ tracks: [PublishedTrack], by key: (PublishedTrack) -> K) -> [[PublishedTrack]] {
            var order: [K] = []
            var groups: [K: [PublishedTrack]] = [:]
            for t in tracks {
                let k = key(t)
                if groups[k] == nil { order.append(k) }
                groups[k, default: []].append(t)
            }
            return order.map { groups[$0]! }
        }
        for tracks in group(videos, by: { $0.plan.info.codec }) {
            var set = AdaptationSet(id: nextID, contentType: "video", mimeType: "video/mp4",
                                    representations: tracks.map(representation))
            nextID += 1
            alignment(&set)
            set.maxWidth = tracks.compactMap(\.plan.info.width).max()
            set.maxHeight = tracks.compactMap(\.plan.info.height).max()
            set.maxFrameRate = tracks.compactMap(\.plan.info.frameRate).max { $0.doubleValue < $1.doubleValue }.map(frameRate)
            if let dar = tracks.first?.plan.info.displayAspectRatio { set.par = "\(dar.numerator):\(dar.denominator)" }
            sets.append(set)
        }
        // One AdaptationSet per audio track: two tracks in one language (main and commentary)
        // are different content, not bit rates to switch between (ISO/IEC 23009-1 §5.3.3.1).
        for run in audios {
            var set = AdaptationSet(id: nextID, contentType: "audio", mimeType: "audio/mp4",
                                    representations: [representation(run)])
            nextID += 1
            set.lang = run.plan.language
            set.label = run.plan.name
            alignment(&set)
            set.roles = [.role(run.plan.isDefault ? "main" : "alternate")]
            sets.append(set)
        }
        for tracks in group(texts, by: { $0.plan.language ?? "" }) {
            var set = AdaptationSet(id: nextID, contentType: "text", mimeType: "text/vtt",
                                    representations: tracks.map { run in
                                        var r = Representation(id: run.plan.folder, bandwidth: max(256, run.peakBitRate))
                                        r.baseURL = "\(run.plan.folder)/\(run.plan.folder).vtt"
                                        return r
                                    })
            nextID += 1
            set.lang = tracks.first?.plan.language
            set.roles = [.role(tracks.contains { $0.plan.isDefault } ? "subtitle" : "alternate")]
            sets.append(set)
        }
        let duration = runs.filter { $0.plan.kind != .text }.map(\.duration).max() ?? .zero(timescale: 1)
        var mpd = MPD(profiles: [options.singleFile ? MPD.onDemandProfile : MPD.liveProfile], minBufferTime: options.segmentDuration,
                      periods: [Period(id: "0", start: .zero(timescale: 1), adaptationSets: sets)])
        mpd.mediaPresentationDuration = duration
        mpd.maxSegmentDuration = runs.flatMap(\.segments).map(\.durationTime).max()
        return mpd
    }

    func representation(_ run: PublishedTrack) -> Representation {
        let info = run.plan.info
        var r = Representation(id: run.plan.folder, bandwidth: run.peakBitRate)
        r.codecs = info.codecString
        r.width = info.width
        r.height = info.height
        r.frameRate = info.frameRate.map(frameRate)
        r.sar = info.sampleAspectRatio.map { "\($0.numerator):\($0.denominator)" } ?? (info.mediaType == .video ? "1:1" : nil)
        r.audioSamplingRate = info.sampleRate
        if let channels = info.channels { r.audioChannelConfigurations = [.channels(channels)] }
        let naming = SegmentNaming(folder: run.plan.folder, byTime: options.timeBasedNames, fileExtension: "m4s")
        if let ranges = run.singleFileRanges {
            r.baseURL = naming.singleFilePath
            r.segmentBase = SegmentBase(timescale: run.timescale,
                                        indexRange: "\(ranges.indexRange.lowerBound)-\(ranges.indexRange.upperBound)",
                                        initializationRange: "\(ranges.initRange.lowerBound)-\(ranges.initRange.upperBound)")
            return r
        }
        r.segmentTemplate = SegmentTemplate(
            timescale: run.timescale, initialization: naming.initPath,
            media: "\(run.plan.folder)/\(naming.mediaTemplate)",
            startNumber: options.timeBasedNames ? nil : (run.segments.first?.number ?? 1),
            timeline: SegmentTimelineEntry.compress(run.segments.map { ($0.start, $0.duration) }))
        return r
    }

    /// Segment alignment for the live profile, subsegment alignment for on-demand single files.
    func alignment(_ set: inout AdaptationSet) {
        if options.singleFile {
            set.subsegmentAlignment = true
            set.subsegmentStartsWithSAP = 1
        } else {
            set.segmentAlignment = true
            set.startWithSAP = 1
        }
    }

    func frameRate(_ rate: Rational) -> String {
        let r = rate.reduced
        return r.denominator == 1 ? "\(r.numerator)" : "\(r.numerator)/\(r.denominator)"
    }
}

/// The segments one `TSVariantWriter` wrote.
struct TSVariant: Sendable {
    var folder: String
    var tracks: [Int]
    var segments: [(size: Int, path: String)]
}
