import KerfCore
import KerfMedia

/// The text tracks of a live epoch (WebVTT, SubRip, mov_text, ASS): their cues are collected as
/// their packets arrive, placed on the channel timeline, and cut into WebVTT segments at the
/// boundaries of the lead track's segments, as packages cut theirs at the video's. A cue
/// spanning a boundary is repeated in both segments (RFC 8216bis §3.1.4).
///
/// Each segment is a WebVTT document with `X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000` whose
/// cue times are channel times: the same document serves HLS (cue time 0 is media time 0 of the
/// CMAF and MPEG-TS segments) and DASH (a `text/vtt` SegmentTemplate whose media times are the
/// Period's, presentationTimeOffset being the Period start).
final class LiveTextCutter {
    private struct Run {
        let track: Int
        let codec: String
        /// Cues not yet wholly inside a cut segment.
        var cues: [Cue] = []
    }

    /// The track whose segments the text segments follow (the first video track).
    let lead: Int
    /// The text tracks published, numbered after the video and audio ones.
    let tracks: [LivePackager.Track]
    private var runs: [Int: Run] = [:]
    /// The end of the last lead segment cut (a lead segment is cut once).
    private var cutUntil: MediaTime?

    /// - Parameters:
    ///   - texts: the input's text tracks to publish.
    ///   - media: the video and audio tracks published.
    init(_ texts: [PlannedTrack], after media: [LivePackager.Track]) {
        lead = media.first { $0.kind == .video }?.number ?? 0
        tracks = texts.enumerated().map { offset, plan in
            LivePackager.Track(number: media.count + offset, info: plan.info, kind: .text, folder: plan.folder, name: plan.name,
                               language: plan.language, isDefault: plan.isDefault)
        }
        for track in tracks { runs[track.info.index] = Run(track: track.number, codec: track.info.codec) }
    }

    var isEmpty: Bool { runs.isEmpty }

    /// Takes a packet of a text track; false when it is another track's.
    /// - Parameter start: where its presentation time falls on the channel timeline (nil
    ///   before the epoch's first keyframe: the cue is dropped).
    func accept(_ packet: Packet, start: MediaTime?) -> Bool {
        guard var run = runs[packet.streamIndex] else { return false }
        guard let start, let duration = packet.duration else { return true }
        let text = WebVTT.text(codec: run.codec, payload: packet.bytes)
        guard !text.isEmpty else { return true }
        run.cues.append(Cue(start: start, end: start + duration, text: text))
        runs[packet.streamIndex] = run
        return true
    }

    /// The text segments of every lead segment among `events` not cut yet, one per text track,
    /// timed like the lead's.
    func segments(following events: ArraySlice<LivePackager.Event>) -> [LivePackager.Event] {
        var made: [LivePackager.Event] = []
        for case .segment(let segment) in events where segment.track == lead {
            let end = segment.start + segment.duration
            if let cutUntil, end <= cutUntil { continue }
            cutUntil = end
            for key in runs.keys.sorted() {
                guard var run = runs[key] else { continue }
                let cues = WebVTT.cues(run.cues, from: segment.start, to: end)
                let bytes = Array(WebVTT.document(cues, timestampMap: 0).utf8)
                made.append(.segment(LivePackager.Segment(track: run.track, start: segment.start, duration: segment.duration, bytes: bytes)))
                run.cues.removeAll { $0.end <= end }
                runs[key] = run
            }
        }
        return made
    }
}
