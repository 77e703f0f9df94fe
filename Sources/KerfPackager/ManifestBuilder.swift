import KerfCore
import KerfManifest

/// Writes the HLS playlists and the DASH MPD of a package: what the track writers recorded,
/// as `SegmentEvent`s into the shared `Presentation` model, listed as a package.
struct ManifestBuilder {
    let options: PackageOptions
    let runs: [PublishedTrack]
    let timeline: Timeline
    /// How each protected rendition is signalled, by plan number.
    var protections: [Int: ContentProtection] = [:]
    var tsVariants: [TSVariant] = []
    /// The splices, aligned to the boundaries.
    var splices: [SpliceSchedule.Placement] = []

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
        var manifestsModel = PackageManifests(options: options)
        for event in events() { manifestsModel.handle(event) }
        let numbers = Dictionary(runs.map { ($0.plan.folder, $0.plan.number) }) { first, _ in first }
        for document in try manifestsModel.documents() {
            try directory.write(document.path, document.bytes)
            if document.isEntry {
                manifests.append(document.path)
            } else if let folder = document.path.split(separator: "/").first, let number = numbers[String(folder)] {
                files[number]!.append(document.path)
            }
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
            },
            splices: splices.isEmpty ? nil : splices.map { placement in
                let marker = placement.marker
                return PackageSummary.Splice(id: marker.id, eventID: marker.eventID, kind: marker.kind.rawValue,
                                             signalled: marker.signalledStart.seconds, start: marker.start.seconds,
                                             shift: placement.startShift.seconds, end: marker.end?.seconds,
                                             endShift: placement.endShift?.seconds, plannedDuration: marker.plannedDuration?.seconds)
            })
    }

    // MARK: events

    /// What the track writers made, as the events a live window also takes: every CMAF and
    /// text rendition (initialization segment, segments with their keyframes), then every
    /// MPEG-TS variant (its segments timed by the presentation's boundaries).
    func events() -> [SegmentEvent] {
        var events: [SegmentEvent] = []
        for run in runs {
            let plan = run.plan
            let naming = SegmentNaming(folder: plan.folder, byTime: options.timeBasedNames, fileExtension: "m4s")
            let kind: RenditionDescription.Kind = plan.kind == .video ? .video : plan.kind == .audio ? .audio : .text
            events.append(.started(RenditionDescription(
                id: plan.folder, kind: kind, info: plan.info, name: plan.name, language: plan.language, isDefault: plan.isDefault,
                declaredBandwidth: plan.bandwidth, timescale: run.timescale, mediaTemplate: "\(plan.folder)/\(naming.mediaTemplate)",
                templateByTime: options.timeBasedNames, wholeFile: kind == .text ? "\(plan.folder)/\(plan.folder).vtt" : nil,
                protection: protections[plan.number], captions: run.captions, eventSchemes: run.eventSchemes)))
            if kind != .text, !run.segments.isEmpty {
                let entry = run.singleFileRanges.map {
                    InitializationEntry(uri: naming.singleFilePath, range: $0.initRange, indexRange: $0.indexRange)
                } ?? InitializationEntry(uri: naming.initPath)
                events.append(.initialization(rendition: plan.folder, epoch: 0, entry))
            }
            var keyframes = run.keyframes[...]
            for (index, segment) in run.segments.enumerated() {
                // Each keyframe goes with the segment it starts in (the last one takes the rest).
                let end = index + 1 < run.segments.count ? run.segments[index + 1].start : nil
                let mine = keyframes.prefix { end == nil || $0.start < end! }
                keyframes = keyframes.dropFirst(mine.count)
                events.append(.segmentCompleted(rendition: plan.folder, SegmentEntry(
                    uri: segment.path, sequence: UInt64(segment.number - 1), start: segment.start, duration: segment.duration,
                    size: segment.size, offset: run.singleFileRanges == nil ? nil : segment.offset,
                    keyframes: mine.map { KeyframeEntry(uri: $0.path, offset: $0.offset, length: $0.length,
                                                        start: $0.start, duration: $0.duration) })))
            }
        }
        events += splices.map { .splice($0.marker) }
        let ranges = timeline.segments
        for variant in tsVariants {
            let members = variant.tracks.map { runs[$0].plan }
            guard let lead = members.first else { continue }
            events.append(.started(RenditionDescription(id: variant.folder, kind: .muxed, info: lead.info, name: variant.folder,
                                                        language: nil, timescale: ranges.first?.start.timescale ?? 1000,
                                                        members: members.map(\.info), protection: variant.protection,
                                                        captions: runs[variant.tracks[0]].captions)))
            for (index, segment) in variant.segments.enumerated() {
                let range = index < ranges.count ? ranges[index] : (start: timeline.end, end: timeline.end)
                events.append(.segmentCompleted(rendition: variant.folder, SegmentEntry(
                    uri: segment.path, sequence: UInt64(index), start: range.start, duration: range.end - range.start, size: segment.size)))
            }
        }
        return events
    }
}

/// The segments one `TSVariantWriter` wrote, and how they are protected (SAMPLE-AES).
struct TSVariant: Sendable {
    var folder: String
    var tracks: [Int]
    var segments: [(size: Int, path: String)]
    var protection: ContentProtection? = nil
}
