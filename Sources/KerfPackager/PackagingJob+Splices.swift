import KerfCore
import KerfManifest
import KerfMedia

/// Splices: the cue list's and the SCTE-35 of MPEG-TS inputs, cut at and listed.
extension PackagingJob {
    /// The package's splices. Inputs carrying SCTE-35 are read once for their sections first;
    /// their times are measured from each input's first video keyframe (else first audio
    /// packet), the origin packaging uses.
    /// - Throws: `MediaError` when an input cannot be read.
    static func spliceSchedule(options: PackageOptions, tracks: [[TrackInfo]], notice: ((String) -> Void)?) throws -> SpliceSchedule {
        try scanDataStreams(options: options, tracks: tracks, notice: notice).splices
    }

    /// The splices, and the timed ID3 tags of the inputs (times from the presentation start,
    /// in order; a tag several renditions of one title carry counts once).
    /// - Throws: `MediaError` when an input cannot be read.
    static func scanDataStreams(options: PackageOptions, tracks: [[TrackInfo]], notice: ((String) -> Void)?) throws
        -> (splices: SpliceSchedule, tags: [EventMessage]) {
        var schedule = SpliceSchedule(cues: options.cues)
        var tags: [EventMessage] = []
        for (index, path) in options.inputs.enumerated() where index < tracks.count
            && (DataStreamScan.hasSplices(tracks[index]) || DataStreamScan.hasTimedMetadata(tracks[index])) {
            let scan: DataStreamScan
            do { scan = try DataStreamScan(url: path) } catch { throw error.naming(file: path) }
            for problem in scan.problems { notice?(problem) }
            guard let origin = scan.origin else { continue }
            schedule.add(scan, origin: origin)
            for tag in scan.tags {
                let time = max(tag.time - origin, .zero(timescale: tag.time.timescale))
                if !tags.contains(where: { $0.time == time && $0.data == tag.bytes }) { tags.append(.timedID3(time: time, tag: tag.bytes)) }
            }
        }
        return (schedule, tags.sorted { $0.time < $1.time })
    }

    /// The times, from the presentation start, at which a re-encoded package needs keyframes
    /// (every splice out and return): what `--transcode` forces so cuts land exactly there.
    /// - Throws: `MediaError` when an input cannot be read.
    public static func splicePoints(options: PackageOptions) throws -> [MediaTime] {
        let tracks = try options.inputs.map { path -> [TrackInfo] in
            do { return try MediaInput(url: path).tracks } catch { throw error.naming(file: path) }
        }
        return try spliceSchedule(options: options, tracks: tracks, notice: nil).cutPoints
    }

    /// The splices placed on the boundaries the segmenter cut at; a splice that moved to a later
    /// keyframe is told (`warning`) with how far it moved.
    func place(_ schedule: SpliceSchedule, segmenter: Segmenter, reference: PlannedTrack?) -> [SpliceSchedule.Placement] {
        guard !schedule.isEmpty else { return [] }
        let frame = reference?.frameDuration ?? MediaTime(value: 1, timescale: 1000)
        let tolerance = MediaTime(value: frame.value, timescale: frame.timescale * 2)
        let placements = schedule.placements(boundaries: segmenter.boundaries, tolerance: tolerance)
        let millisecond = MediaTime(value: 1, timescale: 1000)
        for placement in placements where placement.marker.kind == .break {
            let marker = placement.marker
            if placement.startShift > millisecond {
                warning?("splice \(marker.id): out at \(hlsDecimal(marker.signalledStart)) s has no keyframe; the break starts at the next one, \(hlsDecimal(marker.start)) s (+\(hlsDecimal(placement.startShift)) s)")
            }
            if let shift = placement.endShift, shift > millisecond, let end = marker.end {
                warning?("splice \(marker.id): return at \(hlsDecimal(end - shift)) s has no keyframe; the break ends at the next one, \(hlsDecimal(end)) s (+\(hlsDecimal(shift)) s)")
            }
        }
        let left = schedule.requests.filter { $0.role == .out }.count - placements.filter { $0.marker.kind == .break }.count
        if left > 0 { warning?("\(left) splice(s) after the end of the presentation (or cancelled) left out") }
        return placements
    }
}
