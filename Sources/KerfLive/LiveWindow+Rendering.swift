import KerfCore
import KerfManifest
import NIOCore

extension LiveWindow {
    /// Stands for the UTCTiming URL while the MPD is rendered; each response puts the URL of
    /// the `/time` endpoint on the host the request came to in its place.
    package static let utcTimingMarker = "kerf-utc-timing-url"

    /// What one publication renders: the playlists, the MPD and when.
    package struct Rendered: Sendable {
        var documents: [String: Document]
        var mpd: (head: String, tail: String, etag: String)?
        var publication: Double?
        /// Only the CMAF media playlists changed (a part was published).
        var partsOnly: Bool
        /// What the rendered media playlists list, by folder.
        var progress: [String: PublishedProgress] = [:]
    }

    /// How far a rendered media playlist goes: its last complete segment, and the parts it
    /// lists of the segment after it.
    package struct PublishedProgress: Sendable, Equatable {
        var lastSequence: UInt64?
        var nextSequence: UInt64
        var parts: Int
    }

    /// What `folder`'s media playlist lists now.
    func progress(_ folder: String) -> PublishedProgress? {
        guard let track = presentation.tracks[folder] else { return nil }
        return PublishedProgress(lastSequence: track.segments.last?.sequence, nextSequence: track.nextSequence,
                                 parts: presentation.inProgress(track).parts.count)
    }

    /// The live listing of the window at wall-clock `now` (seconds since 1970).
    package func listing(now: Double) -> Presentation.Listing {
        var live = Presentation.Listing.Live(window: window, targetDuration: targetDuration, availabilityStart: origin, publishTime: now,
                                             partTarget: partTarget, utcTiming: Self.utcTimingMarker)
        live.timelineFromPeriodStart = dashTimeline == .period
        var listing = Presentation.Listing(segmentDuration: segmentDuration, live: live)
        listing.adMarkers = adMarkers
        listing.dashEvents = dashEvents
        listing.cuePeriods = adPeriods
        return listing
    }

    /// Renders what a publication changed; call it on a copy, outside any lock request threads
    /// take, then `install` the result. A part changes only the CMAF media playlists (and their
    /// delta updates): the multivariant playlists, MPEG-TS playlists and the MPD, which list
    /// whole segments, are left as they are. Nil while nothing can be published: until every
    /// CMAF rendition of the current epoch that has samples has a segment in it (a track the
    /// input declares but never feeds is left out).
    package func rendered(now: Double, partsOnly: Bool = false) -> Rendered? {
        let active = presentation.activeRenditions
        let cmaf = active.filter { renditions[$0]?.isTransportStream == false }
        guard let current = presentation.currentEpoch, !cmaf.isEmpty,
              cmaf.allSatisfy({ presentation.tracks[$0]?.segments.last?.epoch == current.id }) else { return nil }
        let listing = listing(now: now)
        var documents: [String: Document] = [:]
        if formats.contains(.hls) {
            for folder in cmaf {
                documents["\(folder)/playlist.m3u8"] = presentation.mediaPlaylist(folder, listing).map(Self.document)
                if partTarget != nil {
                    documents["\(folder)/playlist.m3u8?skip"] = presentation.mediaPlaylist(folder, listing, skip: true).map(Self.document)
                }
            }
            if !partsOnly { documents["master.m3u8"] = Self.document(presentation.multivariantPlaylist(listing)) }
        }
        let progress = Dictionary(uniqueKeysWithValues: cmaf.compactMap { folder in self.progress(folder).map { (folder, $0) } })
        if partsOnly { return Rendered(documents: documents, mpd: nil, publication: nil, partsOnly: true, progress: progress) }
        let transport = active.filter { renditions[$0]?.isTransportStream == true && presentation.tracks[$0]?.segments.last?.epoch == current.id }
        if !transport.isEmpty {
            for folder in transport {
                documents["\(folder)/playlist.m3u8"] = presentation.mediaPlaylist(folder, listing).map(Self.document)
            }
            documents["master-ts.m3u8"] = presentation.transportMultivariantPlaylist(listing).map(Self.document)
        }
        var mpd: (head: String, tail: String, etag: String)?
        if formats.contains(.dash), let model = presentation.mpd(listing), let bytes = try? MPDWriter.write(model) {
            let text = String(decoding: bytes, as: UTF8.self)
            if let marker = text.range(of: Self.utcTimingMarker) {
                let head = String(text[..<marker.lowerBound]), tail = String(text[marker.upperBound...])
                mpd = (head, tail, Self.etag(Array((head + tail).utf8)))
            }
        }
        var all = progress
        for folder in transport { all[folder] = self.progress(folder) }
        return Rendered(documents: documents, mpd: mpd, publication: now, partsOnly: false, progress: all)
    }

    /// Makes a rendering the one served.
    package mutating func install(_ rendered: Rendered) {
        publishedProgress.merge(rendered.progress) { $1 }
        if rendered.partsOnly {
            documents.merge(rendered.documents) { $1 }
            return
        }
        documents = rendered.documents
        mpd = rendered.mpd
        lastPublication = rendered.publication
    }

    /// Renders and installs at once (replays and tests; a channel renders outside its lock).
    package mutating func publish(now: Double, partsOnly: Bool = false) {
        if let rendered = rendered(now: now, partsOnly: partsOnly) { install(rendered) }
    }

    static func document(_ playlist: MediaPlaylist) -> Document { document(HLSWriter.write(playlist)) }
    static func document(_ playlist: MultivariantPlaylist) -> Document { document(HLSWriter.write(playlist)) }

    static func document(_ text: String) -> Document {
        let bytes = Array(text.utf8)
        return Document(body: ByteBuffer(bytes: bytes), etag: etag(bytes))
    }
}
