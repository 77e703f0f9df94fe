import KerfCore

extension Presentation {
    /// The MPD (ISO/IEC 23009-1). A package's is static, one Period, with
    /// mediaPresentationDuration (the on-demand profile for single files, SegmentBase); a live
    /// one is dynamic (DASH-IF IOP live) with a Period per epoch still in the window, each
    /// Representation's SegmentTimeline on the presentation timeline (presentationTimeOffset =
    /// the Period start), UTCTiming and, with parts, the LL-DASH attributes. Nil when nothing
    /// is listed yet.
    ///
    /// AdaptationSets: video by codec (bit rates to switch between), one per audio rendition
    /// (two tracks in one language, main and commentary, are different content, not bit rates:
    /// §5.3.3.1), text by language.
    public func mpd(_ listing: Listing) -> MPD? {
        let singleFile = tracks.values.contains { $0.initializations.values.contains { $0.indexRange != nil } }
        var periods: [Period] = []
        let plans = periodPlans(listing)
        for (position, plan) in plans.enumerated() {
            let epoch = plan.epoch
            let inPeriod = { (track: Track) in listing.isLive || self.epochs.isEmpty ? true : epoch.renditions.contains(track.id) }
            let segmentsOf = { (track: Track) in self.listed(track, listing).filter { plan.contains($0, live: listing.isLive) } }
            func listedIn(_ kind: RenditionDescription.Kind) -> [Track] {
                renditions(kind).filter { inPeriod($0) && (kind == .text || !segmentsOf($0).isEmpty) }
                    .filter { kind == .text || !listing.isLive || $0.initializations[epoch.id] != nil }
            }
            // A package's subtitles are one whole WebVTT file, listed in the first Period; a live
            // channel's are WebVTT segments, listed in the Periods that have some.
            let texts = !listing.isLive && plan.byTime && position > 0 ? [] : listedIn(.text).filter { !listing.isLive || !segmentsOf($0).isEmpty }
            let sets = adaptationSets(videos: listedIn(.video), audios: listedIn(.audio), texts: texts, singleFile: singleFile) { track in
                representation(track, segments: segmentsOf(track), plan: plan, listing: listing)
            }
            guard !sets.isEmpty else { continue }
            var period = Period(id: plan.id, start: plan.start, adaptationSets: sets)
            if listing.dashEvents.contains(.period), let stream = eventStream(from: plan.start, to: plan.end) { period.eventStreams = [stream] }
            periods.append(period)
        }
        guard !periods.isEmpty else { return nil }
        guard let live = listing.live else {
            var mpd = MPD(profiles: [singleFile ? MPD.onDemandProfile : MPD.liveProfile], minBufferTime: listing.segmentDuration,
                          periods: periods)
            mpd.mediaPresentationDuration = order.compactMap { tracks[$0] }.filter { $0.kind != .text && $0.kind != .muxed }
                .compactMap(\.end).max() ?? .zero(timescale: 1)
            mpd.maxSegmentDuration = tracks.values.filter { $0.kind != .muxed }.flatMap { $0.segments.map(\.duration) }.max()
            return mpd
        }
        let seconds = { (value: Double) in MediaTime(seconds: value, timescale: 1000) }
        var mpd = MPD(type: .dynamic, profiles: [MPD.liveProfile], minBufferTime: listing.segmentDuration, periods: periods)
        mpd.availabilityStartTime = UTCTime.xsDateTime(live.availabilityStart)
        mpd.publishTime = UTCTime.xsDateTime(live.publishTime)
        mpd.minimumUpdatePeriod = listing.segmentDuration
        mpd.timeShiftBufferDepth = live.window
        mpd.suggestedPresentationDelay = seconds(3 * listing.segmentDuration.seconds)
        mpd.maxSegmentDuration = MediaTime(value: Int64(live.targetDuration), timescale: 1)
        if let partTarget = live.partTarget {
            mpd.targetLatency = Int((listing.segmentDuration.seconds + 2 * partTarget.seconds) * 1000)
        }
        if let url = live.utcTiming { mpd.utcTimings = [Descriptor(schemeIdUri: "urn:mpeg:dash:utc:http-xsdate:2014", value: url)] }
        return mpd
    }

    private func adaptationSets(videos: [Track], audios: [Track], texts: [Track], singleFile: Bool,
                                representation: (Track) -> Representation) -> [AdaptationSet] {
        var sets: [AdaptationSet] = []
        func alignment(_ set: inout AdaptationSet) {
            if singleFile {
                set.subsegmentAlignment = true
                set.subsegmentStartsWithSAP = 1
            } else {
                set.segmentAlignment = true
                set.startWithSAP = 1
            }
        }
        for group in Self.grouped(videos, by: { $0.description.info.codec }) {
            var set = AdaptationSet(id: sets.count, contentType: "video", mimeType: "video/mp4", representations: group.map(representation))
            alignment(&set)
            set.contentProtections = Self.contentProtections(group.first?.description.protection)
            let infos = group.map(\.description.info)
            set.maxWidth = infos.compactMap(\.width).max()
            set.maxHeight = infos.compactMap(\.height).max()
            set.maxFrameRate = infos.compactMap(\.frameRate).max { $0.doubleValue < $1.doubleValue }.map(Self.frameRate)
            if let dar = infos.first?.displayAspectRatio { set.par = "\(dar.numerator):\(dar.denominator)" }
            let captions = group.compactMap(\.description.captions).reduce(nil as ClosedCaptions?) { $0?.union($1) ?? $1 }
            set.accessibilities = Self.accessibility(captions, language: group.first?.description.language)
            set.inbandEventStreams = Self.inbandEventStreams(group)
            sets.append(set)
        }
        for track in audios {
            var set = AdaptationSet(id: sets.count, contentType: "audio", mimeType: "audio/mp4", representations: [representation(track)])
            set.lang = track.description.language
            set.label = track.description.name
            alignment(&set)
            set.contentProtections = Self.contentProtections(track.description.protection)
            set.roles = [.role(track.description.isDefault ? "main" : "alternate")]
            set.inbandEventStreams = Self.inbandEventStreams([track])
            sets.append(set)
        }
        for group in Self.grouped(texts, by: { $0.description.language ?? "" }) {
            var set = AdaptationSet(id: sets.count, contentType: "text", mimeType: "text/vtt", representations: group.map { track in
                var r = track.description.wholeFile == nil ? representation(track) : Representation(id: track.id, bandwidth: 0)
                r.bandwidth = max(256, track.bandwidth)
                r.codecs = nil
                r.baseURL = track.description.wholeFile
                return r
            })
            set.lang = group.first?.description.language
            set.roles = [.role(group.contains { $0.description.isDefault } ? "subtitle" : "alternate")]
            sets.append(set)
        }
        return sets
    }

    private func representation(_ track: Track, segments: [Segment], plan: PeriodPlan, listing: Listing) -> Representation {
        let epoch = plan.epoch
        let info = track.description.info
        var r = Representation(id: track.id, bandwidth: track.bandwidth)
        r.codecs = info.codecString
        r.width = info.width
        r.height = info.height
        r.frameRate = info.frameRate.map(Self.frameRate)
        r.sar = info.sampleAspectRatio.map { "\($0.numerator):\($0.denominator)" } ?? (info.mediaType == .video ? "1:1" : nil)
        r.audioSamplingRate = info.sampleRate
        if let channels = info.channels { r.audioChannelConfigurations = [.channels(channels)] }
        let timescale = track.description.timescale
        let initialization = track.initializations[epoch.id] ?? track.initializations.values.first
        if let initialization, let range = initialization.range, let index = initialization.indexRange {
            r.baseURL = initialization.uri
            r.segmentBase = SegmentBase(timescale: timescale, indexRange: "\(index.lowerBound)-\(index.upperBound)",
                                        initializationRange: "\(range.lowerBound)-\(range.upperBound)")
            return r
        }
        var template = SegmentTemplate(
            timescale: timescale, initialization: initialization?.uri, media: track.description.mediaTemplate,
            startNumber: track.description.templateByTime ? nil : Int(segments.first?.sequence ?? 0) + 1,
            timeline: SegmentTimelineEntry.compress(runs: timelineRuns(track, segments: segments, plan: plan, listing: listing).map {
                ($0.start.rescaled(to: timescale).value, $0.duration.rescaled(to: timescale).value, $0.count)
            }))
        let offset = plan.start.rescaled(to: timescale).value
        if offset != 0 { template.presentationTimeOffset = offset }
        if let live = listing.live, let partTarget = live.partTarget, track.kind != .text {
            // LL-DASH: a segment may be asked for once its first chunk exists; it is then sent in
            // chunks (parts) as they are made. A shorter segment (cut early at a splice or an
            // epoch's end) lowers the offset: none is announced before its first chunk.
            let shortest = segments.map(\.duration).min().map { min($0, listing.segmentDuration) } ?? listing.segmentDuration
            template.availabilityTimeOffset = max(shortest - partTarget, .zero(timescale: 1)).seconds
            template.availabilityTimeComplete = false
            // The presentation timeline is the wall clock: presentation time t was made at t.
            r.producerReference = ProducerReferenceTime(presentationTime: offset,
                                                        wallClockTime: UTCTime.xsDateTime(live.availabilityStart + plan.start.seconds))
        }
        r.segmentTemplate = template
        return r
    }

    /// What a Representation's SegmentTimeline lists: the listed segments, or with
    /// `timelineFromPeriodStart` every segment of the epoch since the Period start (runs of
    /// removed ones, then those kept before the window), as GStreamer's dashdemux needs: it
    /// adds the first listed segment's time to the live position it starts from.
    private func timelineRuns(_ track: Track, segments: [Segment], plan: PeriodPlan, listing: Listing) -> [SegmentRun] {
        let listed = segments.map { SegmentRun(start: $0.start, duration: $0.duration) }
        guard listing.live?.timelineFromPeriodStart == true, let first = segments.first else { return listed }
        let kept = track.segments.prefix { $0.start < first.start }.filter { plan.contains($0, live: true) }
        let earlier = (track.earlier[plan.epoch.id] ?? []).compactMap { plan.byTime ? Self.clip($0, from: plan.start, to: plan.end) : $0 }
        return earlier + kept.map { SegmentRun(start: $0.start, duration: $0.duration) } + listed
    }

    /// `tracks` in groups of equal `key`, groups in order of first appearance.
    static func grouped<K: Hashable>(_ tracks: [Track], by key: (Track) -> K) -> [[Track]] {
        var order: [K] = []
        var groups: [K: [Track]] = [:]
        for track in tracks {
            let k = key(track)
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(track)
        }
        return order.map { groups[$0]! }
    }

    /// One InbandEventStream per emsg scheme the tracks' segments carry.
    static func inbandEventStreams(_ tracks: [Track]) -> [Descriptor] {
        var schemes: [String] = []
        for scheme in tracks.flatMap(\.description.eventSchemes) where !schemes.contains(scheme) { schemes.append(scheme) }
        return schemes.map { Descriptor(schemeIdUri: $0, value: nil) }
    }
}
