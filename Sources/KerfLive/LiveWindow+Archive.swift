import KerfCore
import KerfPackager
import NIOCore

package extension LiveWindow {
    /// Takes one journal record back (at restart). Segments come back without their bytes
    /// (they are read from the archive); init segments with `initBytes`.
    mutating func replay(_ record: LiveArchive.Record, initBytes: [UInt8]?) {
        switch record {
        case .rendition(let folder, let track, let muxed, let nextSequence, let discontinuitiesRemoved, let target, let peak):
            targetDuration = max(targetDuration, target ?? 0)
            // The first record of a rendition (the compacted journal's) carries its counters;
            // later ones (a new epoch) only its track, whose counters the segments after it set.
            if renditions[folder] == nil {
                renditions[folder] = Rendition(track: track, timescale: 1, nextSequence: nextSequence,
                                               discontinuitiesRemoved: discontinuitiesRemoved)
            }
            renditions[folder]!.track = track
            renditions[folder]!.muxed = muxed
            renditions[folder]!.peakBitRate = max(renditions[folder]!.peakBitRate, peak ?? 0)
        case .epoch(let id, let start, let folders, let transport):
            guard !epochs.contains(where: { $0.id == id }) else { return }
            epochs.append(Epoch(id: id, start: MediaTime(value: start, timescale: 1000), folders: folders, transportFolders: transport))
        case .initialization(let folder, let epoch, let timescale):
            guard let initBytes else { return }
            addInit(folder: folder, epoch: epoch, bytes: initBytes, timescale: timescale)
        case .segment(let folder, let epoch, let sequence, let start, let duration, let timescale, let size, let etag, let discontinuity):
            guard var rendition = renditions[folder], duration > 0, timescale > 0,
                  rendition.segments.last.map({ $0.start < start }) ?? true else { return }
            rendition.timescale = timescale
            append(StoredSegment(sequence: sequence, epoch: epoch, start: start, duration: duration, body: nil, size: size,
                                 etag: etag, discontinuity: discontinuity), to: &rendition)
            renditions[folder] = rendition
        }
    }

    /// After a replay: slides the window to its edge and renders the documents, so the
    /// restarted origin serves what it served before.
    /// - Returns: the files that are no longer in the window.
    mutating func finishReplay(now: Double) -> [(folder: String, name: String)] {
        let removed = evict()
        render(now: now)
        return removed
    }

    /// The archive files the window refers to (`<folder>/<name>`).
    var referencedFiles: Set<String> {
        var files = Set<String>()
        for (folder, rendition) in renditions {
            for epoch in rendition.inits.keys { files.insert("\(folder)/init_\(epoch).mp4") }
            for segment in rendition.segments { files.insert("\(folder)/\(rendition.fileName(segment))") }
        }
        return files
    }

    /// The journal that describes the window as it is (compaction): renditions, epochs, init
    /// segments and segments in that order.
    func records() -> [LiveArchive.Record] {
        var records: [LiveArchive.Record] = []
        for folder in renditions.keys.sorted() {
            let rendition = renditions[folder]!
            records.append(.rendition(folder: folder, track: rendition.track, muxed: rendition.muxed,
                                      nextSequence: rendition.nextSequence, discontinuitiesRemoved: rendition.discontinuitiesRemoved,
                                      targetDuration: targetDuration, peakBitRate: rendition.peakBitRate))
        }
        for epoch in epochs {
            records.append(.epoch(id: epoch.id, startMilliseconds: epoch.start.rescaled(to: 1000).value, folders: epoch.folders,
                                  transport: epoch.transportFolders))
        }
        for folder in renditions.keys.sorted() {
            let rendition = renditions[folder]!
            for epoch in rendition.inits.keys.sorted() {
                records.append(.initialization(folder: folder, epoch: epoch, timescale: rendition.timescale))
            }
            // A pinned segment (not on disk) is journaled all the same: after a restart it is a
            // 404, and the numbering of the ones after it stays right.
            for segment in rendition.segments {
                records.append(.segment(folder: folder, epoch: segment.epoch, sequence: segment.sequence, start: segment.start,
                                        duration: segment.duration, timescale: rendition.timescale, size: segment.size,
                                        etag: segment.etag, discontinuity: segment.discontinuity))
            }
        }
        return records
    }
}
