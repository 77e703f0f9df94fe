import KerfCore
import KerfManifest
import NIOCore

/// What responders ask the window, by the names in URLs: times are ticks of the rendition's
/// timescale, as in `seg_<t>.m4s` and `part_<t>_<i>.m4s`.
extension LiveWindow {
    /// A rendition's kind as URLs serve it, nil for an unknown folder.
    package func kind(of folder: String) -> (audio: Bool, transportStream: Bool)? {
        renditions[folder].map { ($0.track.kind == .audio, $0.isTransportStream) }
    }

    /// The sequence number of the segment a rendition is writing.
    package func nextSequence(of folder: String) -> UInt64? { presentation.tracks[folder]?.nextSequence }

    /// A listed segment by its name's start time, with its bytes (nil body: only in the archive).
    package func segment(folder: String, start: Int64) -> (segment: Presentation.Segment, stored: Stored)? {
        guard let segments = presentation.tracks[folder]?.segments else { return nil }
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].start.value < start { low = mid + 1 } else { high = mid }
        }
        guard low < segments.count, segments[low].start.value == start, let stored = stored[segments[low].uri] else { return nil }
        return (segments[low], stored)
    }

    /// Whether a segment starting at `start` may still appear (it is after the live edge).
    package func isFuture(folder: String, start: Int64) -> Bool {
        guard let last = presentation.tracks[folder]?.segments.last else { return true }
        return start > last.start.value
    }

    /// An init segment by its name in URLs.
    package func initSegment(folder: String, name: String) -> Document? {
        guard let track = presentation.tracks[folder],
              let entry = track.initializations.values.first(where: { $0.uri == "\(folder)/\(name)" }),
              let bytes = stored[entry.uri], let body = bytes.body else { return nil }
        return Document(body: body, etag: bytes.etag)
    }

    /// A stored part by name.
    package func part(folder: String, segmentStart: Int64, index: Int) -> Document? {
        guard let bytes = stored["\(folder)/part_\(segmentStart)_\(index).m4s"], let body = bytes.body else { return nil }
        return Document(body: body, etag: bytes.etag)
    }

    /// The parts of the segment starting at `start` from `index` on, in order.
    package func parts(folder: String, segmentStart start: Int64, from index: Int) -> [ByteBuffer] {
        (presentation.tracks[folder]?.parts ?? []).filter { $0.segmentStart.value == start && $0.index >= index }
            .sorted { $0.index < $1.index }.compactMap { stored[$0.uri]?.body }
    }

    /// The segment being written: its sequence number, start and the number of its parts so far.
    package func inProgress(folder: String) -> (sequence: UInt64, start: Int64?, parts: Int)? {
        guard let track = presentation.tracks[folder] else { return nil }
        let progress = presentation.inProgress(track)
        return (track.nextSequence, progress.start?.rescaled(to: track.description.timescale).value, progress.parts.count)
    }

    /// Whether a blocking playlist request for `sequence` (and `part` of it) can be answered:
    /// the installed playlist lists that segment complete, or that part of it.
    package func hasPublished(folder: String, sequence: UInt64, part: Int?) -> Bool {
        guard let progress = publishedProgress[folder], documents["\(folder)/playlist.m3u8"] != nil else { return false }
        if let last = progress.lastSequence, sequence <= last { return true }
        guard let part, sequence == progress.nextSequence else { return false }
        return progress.parts > part
    }
}
