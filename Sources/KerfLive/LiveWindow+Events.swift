import KerfCore
import KerfManifest
import KerfPackager
import NIOCore

extension LiveWindow {
    /// Takes a track writer's event with the bytes it names (an init segment, a segment, a
    /// part): the window listens to the writers as a package's manifests do, and keeps the bytes
    /// by URI. A segment slides the window.
    /// - Parameters:
    ///   - body, etag: the bytes and their `etag(_:)` (made before taking the window's lock);
    ///     nil for a segment only in the archive.
    /// - Returns: the files that left the window (init segments by their archive name).
    @discardableResult
    package mutating func receive(_ event: SegmentEvent, body: ByteBuffer? = nil, etag: String = "") -> [(folder: String, name: String)] {
        switch event {
        case .started(let description):
            let isNew = presentation.tracks[description.id] == nil
            renditions[description.id] = Rendition(track: Self.track(description.info, description), muxed: description.kind == .muxed
                                                    ? description.members.enumerated().map { Self.track($0.element, nil, number: $0.offset) } : nil,
                                                   lastEpoch: renditions[description.id]?.lastEpoch)
            presentation.apply(event)
            if !isNew { return [] }
        case .epochStarted, .splice:
            presentation.apply(event)
        case .initialization(_, _, let entry):
            stored[entry.uri] = Stored(body: body, etag: etag, size: body?.readableBytes ?? 0)
            presentation.apply(event)
        case .segmentCompleted(let folder, let entry):
            return add(entry, folder: folder, epoch: presentation.currentEpoch?.id ?? 0, body: body, etag: etag)
        case .partCompleted(let folder, let entry):
            guard presentation.tracks[folder] != nil else { return [] }
            stored[entry.uri] = Stored(body: body, etag: etag, size: body?.readableBytes ?? 0)
            presentation.apply(event)
            // Parts are listed for the last three target durations: keep those of the last 4 segments.
            if let track = presentation.tracks[folder], let oldest = track.segments.suffix(4).first?.start,
               let first = track.parts.first, first.segmentStart < oldest {
                for gone in track.parts where gone.segmentStart < oldest { stored[gone.uri] = nil }
                presentation.removeParts(of: folder, before: oldest)
            }
        }
        return []
    }

    /// The packager's track for a described rendition (journaled with the window).
    private static func track(_ info: TrackInfo, _ description: RenditionDescription?, number: Int = 0) -> LivePackager.Track {
        let kind: Segmenter.Kind = info.mediaType == .audio ? .audio : info.mediaType == .video ? .video : .text
        return LivePackager.Track(number: number, info: info, kind: kind, folder: description?.id ?? "", name: description?.name ?? "",
                                  language: description?.language ?? info.language, isDefault: description?.isDefault ?? false)
    }
}
