import KerfCore
import KerfManifest
import KerfPackager
import NIOCore

extension LiveWindow {
    /// Takes one journal record back (at restart). Segments come back without their bytes
    /// (they are read from the archive); init segments with `initBytes`.
    package mutating func replay(_ record: LiveArchive.Record, initBytes: [UInt8]?) {
        switch record {
        case .origin:
            // Read before the window is made (`origin`).
            break
        case .rendition(let folder, let track, let muxed, let nextSequence, let discontinuitiesRemoved, let target, let peak):
            targetDuration = max(targetDuration, target ?? 0)
            // The first record of a rendition (the compacted journal's) carries its counters;
            // later ones (a new epoch) only its track, whose counters the segments after it set.
            let isNew = presentation.tracks[folder] == nil
            announce(Rendition(track: track, muxed: muxed, lastEpoch: renditions[folder]?.lastEpoch), folder: folder,
                     firstSequence: nextSequence)
            if isNew { presentation.tracks[folder]?.discontinuitiesRemoved = discontinuitiesRemoved }
            let measured = presentation.tracks[folder]?.peakBitRate ?? 0
            presentation.tracks[folder]?.peakBitRate = max(measured, peak ?? 0)
        case .epoch(let id, let start, let folders, let transport):
            presentation.apply(.epochStarted(id: id, start: start, renditions: folders + transport.map(\.folder)))
        case .earlier(let folder, let epoch, let runs):
            presentation.tracks[folder]?.earlier[epoch] = runs
        case .splice(let marker):
            presentation.apply(.splice(marker))
        case .captions(let folder, let captions):
            _ = addCaptions(captions, folder: folder)
        case .periodSplit(let time):
            presentation.forgottenSplit = max(presentation.forgottenSplit ?? time, time)
        case .pendingSplices:
            // The channel's (`LiveChannel` takes them again at restart).
            break
        case .initialization(let folder, let epoch, let timescale):
            guard let initBytes else { return }
            addInit(folder: folder, epoch: epoch, bytes: initBytes, timescale: timescale)
        case .segment(let folder, let epoch, let sequence, let start, let duration, let size, let etag, let discontinuity, let protection):
            guard let rendition = renditions[folder], duration.value > 0,
                  presentation.tracks[folder]?.segments.last.map({ $0.start < start }) ?? true else { return }
            if rendition.timedBySegments, presentation.tracks[folder]?.description.timescale != start.timescale {
                announce(rendition, folder: folder, firstSequence: 0, timescale: start.timescale)
            }
            let uri = "\(folder)/\(fileName(start: start, rendition))"
            stored[uri] = Stored(body: nil, etag: etag, size: size)
            append(folder: folder, SegmentEntry(uri: uri, sequence: sequence, start: start, duration: duration, size: size, protection: protection),
                   epoch: epoch, discontinuity: discontinuity)
        }
    }

    /// After a replay: slides the window to its edge and renders the documents, so the
    /// restarted origin serves what it served before.
    /// - Returns: the files that are no longer in the window.
    package mutating func finishReplay(now: Double) -> [(folder: String, name: String)] {
        let removed = evict()
        publish(now: now)
        return removed
    }

    /// The archive files the window refers to (`<folder>/<name>`; init segments by their
    /// archive name, `init_<epoch>.mp4`).
    package var referencedFiles: Set<String> {
        var files = Set<String>()
        for (folder, track) in presentation.tracks {
            for epoch in track.initializations.keys { files.insert("\(folder)/init_\(epoch).mp4") }
            for segment in track.segments { files.insert(segment.uri) }
        }
        return files
    }

    /// The journal that describes the window as it is (compaction): renditions, epochs, init
    /// segments, segments and splice markers in that order.
    package func records() -> [LiveArchive.Record] {
        var records: [LiveArchive.Record] = [.origin(seconds: origin)]
        for folder in presentation.order.sorted() {
            guard let track = presentation.tracks[folder], let rendition = renditions[folder] else { continue }
            records.append(.rendition(folder: folder, track: rendition.track, muxed: rendition.muxed,
                                      nextSequence: track.nextSequence, discontinuitiesRemoved: track.discontinuitiesRemoved,
                                      targetDuration: targetDuration, peakBitRate: track.peakBitRate))
        }
        for epoch in presentation.epochs {
            let transport = epoch.renditions.compactMap { folder -> TransportFolder? in
                guard let rendition = renditions[folder], rendition.isTransportStream else { return nil }
                return TransportFolder(folder: folder, lead: rendition.track.folder)
            }
            records.append(.epoch(id: epoch.id, start: epoch.start, folders: epoch.renditions.filter { renditions[$0]?.isTransportStream != true },
                                  transport: transport))
        }
        for folder in presentation.order.sorted() {
            guard let track = presentation.tracks[folder] else { continue }
            for epoch in track.initializations.keys.sorted() {
                records.append(.initialization(folder: folder, epoch: epoch, timescale: track.description.timescale))
            }
            for (epoch, runs) in track.earlier.sorted(by: { $0.key < $1.key }) where !runs.isEmpty {
                records.append(.earlier(folder: folder, epoch: epoch, runs: runs))
            }
            // A pinned segment (not on disk) is journaled all the same: after a restart it is a
            // 404, and the numbering of the ones after it stays right.
            for segment in track.segments {
                records.append(.segment(folder: folder, epoch: segment.epoch, sequence: segment.sequence, start: segment.start,
                                        duration: segment.duration, size: segment.size, etag: stored[segment.uri]?.etag ?? "",
                                        discontinuity: segment.discontinuity, protection: segment.entry.protection))
            }
        }
        for folder in presentation.order.sorted() where renditions[folder]?.isTransportStream == false {
            if let captions = presentation.tracks[folder]?.description.captions, !captions.isEmpty {
                records.append(.captions(folder: folder, captions))
            }
        }
        if let split = presentation.forgottenSplit { records.append(.periodSplit(split)) }
        records += presentation.markers.map { .splice($0) }
        return records
    }
}
