import KerfCore
import KerfManifest
import KerfMedia

/// What stream copy cannot do, found before reading (codecs, interlacing) or after it (GOPs
/// far longer than the segments).
extension PackagingJob {
    func checkStreamCopy(_ inputs: [any PacketSource]) throws {
        for input in inputs {
            let verdict = StreamCopyVerdict(tracks: input.tracks, gops: [:],
                                            targetSegmentDuration: options.segmentDuration.seconds)
            let inputIndex = inputs.firstIndex { $0 === input } ?? 0
            let selected = input.tracks.filter {
                ($0.mediaType == .video || $0.mediaType == .audio) && options.selection.selects(input: inputIndex, track: $0)
            }
            let blocking = verdict.findings.filter { finding in
                finding.blocking && (finding.track.map { index in selected.contains { $0.index == index } } ?? true)
            }
            // An input that brings only subtitles has no media of its own to judge.
            let hasText = input.tracks.contains { $0.mediaType == .subtitle && options.selection.selects(input: inputIndex, track: $0) }
            let relevant = blocking.filter { !($0.code == .noMediaTracks && hasText) }
            if let none = relevant.first(where: { $0.code == .noMediaTracks }) {
                throw PackagerError(.unsupportedInput, "cannot be packaged", reason: none.message, file: input.url)
            }
            if !relevant.isEmpty {
                throw PackagerError(.needsTranscoding, "cannot be packaged by stream copy",
                                    reason: relevant.map(\.message).joined(separator: "; ") + "; it needs transcoding (--transcode auto)",
                                    file: input.url)
            }
        }
    }

    /// A video segment much longer than the target means GOPs far longer than the target.
    func checkSegmentDurations(_ runs: [TrackRun], segmenter: Segmenter) throws {
        let limit = options.segmentDuration.seconds * 2
        for run in runs where run.plan.kind == .video {
            let cuts = [MediaTime.zero(timescale: 1)] + segmenter.cuts(track: run.plan.number)
            if let longest = zip(cuts, cuts.dropFirst()).map({ $1 - $0 }).max(), longest.seconds > limit {
                throw PackagerError(.needsTranscoding, "GOP far longer than the segment duration",
                                    reason: "a segment lasts \(hlsDecimal(longest)) s for a \(hlsDecimal(options.segmentDuration)) s target; it needs transcoding (--transcode auto) or a longer --segment-duration",
                                    file: run.plan.inputPath)
            }
        }
    }
}
