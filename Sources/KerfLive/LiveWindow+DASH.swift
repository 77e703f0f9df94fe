import KerfCore
import KerfManifest

package extension LiveWindow {
    /// Stands for the UTCTiming URL while the MPD is rendered; each response puts the URL of
    /// the `/time` endpoint on the host the request came to in its place.
    static let utcTimingMarker = "kerf-utc-timing-url"

    /// The dynamic MPD (ISO/IEC 23009-1 §5.3.1, DASH-IF IOP live): one Period per epoch still in
    /// the window, each Representation with a `$Time$` SegmentTemplate and SegmentTimeline on
    /// the channel timeline (presentationTimeOffset = the Period start), split at the
    /// UTCTiming URL.
    func mpdText(publishTime: Double) throws -> (head: String, tail: String)? {
        var periods: [Period] = []
        for epoch in epochs {
            var sets: [AdaptationSet] = []
            var videoRepresentations: [Representation] = []
            var maxWidth = 0, maxHeight = 0
            for folder in epoch.folders {
                guard let rendition = renditions[folder] else { continue }
                let segments = listed(rendition).filter { $0.epoch == epoch.id }
                guard !segments.isEmpty, rendition.inits[epoch.id] != nil else { continue }
                let info = rendition.track.info
                var representation = Representation(id: folder, bandwidth: max(rendition.peakBitRate, info.bitRate ?? 0, 1))
                representation.codecs = info.codecString
                var template = SegmentTemplate(
                    timescale: rendition.timescale, initialization: "\(folder)/\(initName(rendition, epoch: epoch.id))",
                    // $Time$ addresses segments: no startNumber (ffmpeg 5.1's DASH reader counts
                    // timeline segments from 1 whatever startNumber says).
                    media: "\(folder)/seg_$Time$.m4s", startNumber: nil,
                    timeline: SegmentTimelineEntry.compress(segments.map { ($0.start, $0.duration) }))
                template.presentationTimeOffset = epoch.start.rescaled(to: rendition.timescale).value
                if let partTarget {
                    // LL-DASH: a segment may be asked for once its first chunk exists; it is then
                    // sent in chunks (parts) as they are made.
                    template.availabilityTimeOffset = (segmentDuration - partTarget).seconds
                    template.availabilityTimeComplete = false
                    // The channel timeline is the wall clock: presentation time t was made at t.
                    representation.producerReference = ProducerReferenceTime(
                        presentationTime: epoch.start.rescaled(to: rendition.timescale).value,
                        wallClockTime: UTCTime.xsDateTime(Self.availabilityStart + epoch.start.seconds))
                }
                representation.segmentTemplate = template
                if rendition.track.kind == .video {
                    representation.width = info.width
                    representation.height = info.height
                    representation.sar = info.sampleAspectRatio.map { "\($0.numerator):\($0.denominator)" } ?? "1:1"
                    if let rate = info.frameRate?.reduced {
                        representation.frameRate = rate.denominator == 1 ? "\(rate.numerator)" : "\(rate.numerator)/\(rate.denominator)"
                    }
                    maxWidth = max(maxWidth, info.width ?? 0)
                    maxHeight = max(maxHeight, info.height ?? 0)
                    videoRepresentations.append(representation)
                } else {
                    representation.audioSamplingRate = info.sampleRate
                    if let channels = info.channels { representation.audioChannelConfigurations = [.channels(channels)] }
                    var set = AdaptationSet(id: nil, contentType: "audio", mimeType: "audio/mp4", representations: [representation])
                    set.lang = rendition.track.language
                    set.segmentAlignment = true
                    set.startWithSAP = 1
                    sets.append(set)
                }
            }
            if !videoRepresentations.isEmpty {
                var set = AdaptationSet(id: nil, contentType: "video", mimeType: "video/mp4", representations: videoRepresentations)
                set.segmentAlignment = true
                set.startWithSAP = 1
                if maxWidth > 0 { set.maxWidth = maxWidth }
                if maxHeight > 0 { set.maxHeight = maxHeight }
                sets.insert(set, at: 0)
            }
            for index in sets.indices { sets[index].id = index }
            if !sets.isEmpty { periods.append(Period(id: "p\(epoch.id)", start: epoch.start, adaptationSets: sets)) }
        }
        guard !periods.isEmpty else { return nil }
        let seconds = { (value: Double) in MediaTime(value: Int64((value * 1000).rounded()), timescale: 1000) }
        var mpd = MPD(type: .dynamic, profiles: [MPD.liveProfile], minBufferTime: segmentDuration, periods: periods)
        mpd.availabilityStartTime = UTCTime.xsDateTime(Self.availabilityStart)
        mpd.publishTime = UTCTime.xsDateTime(publishTime)
        mpd.minimumUpdatePeriod = segmentDuration
        mpd.timeShiftBufferDepth = seconds(window)
        mpd.suggestedPresentationDelay = seconds(3 * segmentDuration.seconds)
        mpd.maxSegmentDuration = MediaTime(value: Int64(targetDuration), timescale: 1)
        if let partTarget { mpd.targetLatency = Int((segmentDuration.seconds + 2 * partTarget.seconds) * 1000) }
        mpd.utcTimings = [Descriptor(schemeIdUri: "urn:mpeg:dash:utc:http-xsdate:2014", value: Self.utcTimingMarker)]
        let text = String(decoding: try MPDWriter.write(mpd), as: UTF8.self)
        guard let marker = text.range(of: Self.utcTimingMarker) else { return nil }
        return (String(text[..<marker.lowerBound]), String(text[marker.upperBound...]))
    }
}
