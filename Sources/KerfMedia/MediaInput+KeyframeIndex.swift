internal import CFFmpeg
import KerfCore

extension MediaInput {
    /// Demuxers whose index lists every sample once the input is open: the MP4/QuickTime family
    /// reads its sample tables (stts, stss, ctts) from the `moov` box. Others index only what
    /// they have read (MPEG-TS), or some keyframes (Matroska cues).
    static let indexedFormats: Set<String> = ["mov,mp4,m4a,3gp,3g2,mj2"]

    /// The keyframes of video track `index` as the container's index lists them, read without
    /// reading any packet.
    ///
    /// Call it before reading packets (reading may extend an index). Samples an edit list cuts
    /// are listed too: they are read as packets flagged as discarded, and the packager starts
    /// video from the first keyframe it reads, discarded or not.
    /// - Returns: `nil` when the track is not video, or when the container keeps no complete
    ///   index: not an MP4/QuickTime file, or one whose index lists fewer samples than the track
    ///   declares (a fragmented MP4 indexes fragments only as it reads them).
    public func keyframeIndex(track index: Int) -> KeyframeIndex? {
        guard Self.indexedFormats.contains(container.formatName), let context,
              tracks.indices.contains(index), tracks[index].mediaType == .video,
              let declared = tracks[index].frameCount, declared > 0,
              let stream = context.pointee.streams[index] else { return nil }
        let timeBase = tracks[index].timeBase
        guard timeBase.numerator > 0, timeBase.denominator > 0 else { return nil }
        let count = Int(avformat_index_get_entries_count(stream))
        guard count >= declared else { return nil }
        var keyframes: [MediaTime] = []
        for position in 0..<count {
            // The entry is valid only until the next call on the stream: copy what is needed.
            guard let entry = avformat_index_get_entry(stream, Int32(position)) else { return nil }
            if Int32(entry.pointee.flags) & AVINDEX_KEYFRAME != 0 {
                keyframes.append(MediaTime(value: entry.pointee.timestamp, timeBase: timeBase))
            }
        }
        return KeyframeIndex(keyframeTimes: keyframes, sampleCount: count)
    }
}
