import KerfCore
import KerfMedia

/// A sample waiting for the segmenter's decision: the payload the CMAF writer takes (converted
/// for CMAF where the input was MPEG-TS style), the packet as read for MPEG-TS variants, and its
/// times in the track's timescale (CMAF) and stream time base (MPEG-TS).
struct QueuedSample {
    var packet: Packet
    /// The packet as read, for the MPEG-TS writers (nil when none is written).
    var original: Packet?
    var decodeTime: Int64
    var offset: Int64
    var sync: Bool
    /// MPEG-TS presentation and decode times, in the stream's time base.
    var pts: Int64 = 0
    var dts: Int64 = 0
}

/// A track whose samples wait for the segmenter's decisions, and the CMAF writer they go to.
protocol QueuedTrack: AnyObject {
    var queue: SampleQueue<QueuedSample> { get set }
    var writer: CMAFTrackWriter? { get }
}

/// Carries out the segmenter's decisions, the one per-sample loop of packages and live
/// channels: an appended sample leaves its track's queue for the track's CMAF writer and the
/// MPEG-TS variants that carry the track; a completed segment closes in each.
enum SegmentDispatch {
    /// - Parameter tracks: the queued tracks, indexed by the segmenter's track number.
    /// - Returns: the number of segments completed (any track).
    @discardableResult
    static func perform(_ actions: [Segmenter.Action], tracks: [any QueuedTrack], transport: [TSVariantWriter]) throws -> Int {
        var completed = 0
        for action in actions {
            switch action {
            case .append(let sample, let segment):
                let track = tracks[sample.track]
                guard let entry = track.queue.popFirst() else { continue }
                try track.writer?.append(segment: segment, decodeTime: entry.decodeTime, compositionOffset: entry.offset,
                                         isSync: entry.sync, packet: entry.packet)
                if let original = entry.original {
                    for writer in transport where writer.handles(track: sample.track) {
                        try writer.append(track: sample.track, segment: segment, packet: original, pts: entry.pts, dts: entry.dts)
                    }
                }
            case .complete(let track, let segment):
                tracks[track].writer?.complete()
                for writer in transport { try writer.complete(track: track, segment: segment) }
                completed += 1
            }
        }
        return completed
    }

    /// The MPEG-TS variants of a set of tracks: each video track with the first audio track
    /// muxed in, or, without video, each audio track alone. Tracks by number, lead first.
    static func transportGroups<Track>(_ tracks: [Track], kind: (Track) -> Segmenter.Kind) -> [[Track]] {
        let videos = tracks.filter { kind($0) == .video }, audios = tracks.filter { kind($0) == .audio }
        return videos.isEmpty ? audios.map { [$0] } : videos.map { [$0] + audios.prefix(1) }
    }
}
