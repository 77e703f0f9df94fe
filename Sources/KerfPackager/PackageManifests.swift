import KerfCore
import KerfManifest

/// The manifests of a package, rendered from the events its track writers made: the package's
/// listener, as a live window is a channel's. It knows nothing of files: `documents()` names
/// each manifest by its path in the package.
package struct PackageManifests {
    let formats: Set<PackageOptions.Format>
    /// A package's listing: static, every segment, the HLS key if any.
    package private(set) var listing: Presentation.Listing
    package private(set) var presentation = Presentation()

    package init(formats: Set<PackageOptions.Format>, segmentDuration: MediaTime, hlsKey: HLSKey? = nil) {
        self.formats = formats
        listing = Presentation.Listing(segmentDuration: segmentDuration, hlsKey: hlsKey)
    }

    /// A package's manifests as `options` ask: formats, HLS key, splice listing.
    package init(options: PackageOptions) {
        self.init(formats: options.formats, segmentDuration: options.segmentDuration, hlsKey: options.encryption?.hlsKey)
        listing.programDateTime = options.programDateTime
        listing.adMarkers = options.adMarkers
        listing.cuePeriods = options.cuePeriods
        listing.dashEvents = options.dashEvents
    }

    package mutating func handle(_ event: SegmentEvent) {
        presentation.apply(event)
    }

    /// A manifest: its path in the package and its bytes; `isEntry` for the ones players
    /// open (multivariant playlists, the MPD).
    package struct Document {
        package var path: String
        package var bytes: [UInt8]
        package var isEntry: Bool
    }

    /// Every manifest of the formats asked for, in the order they are written: the CMAF media
    /// and I-frame playlists then `master.m3u8`; the MPEG-TS playlists then `master-ts.m3u8`
    /// (`master.m3u8` when it is the only HLS); `manifest.mpd`.
    /// - Throws: `ManifestError` when the MPD cannot be written.
    package func documents() throws -> [Document] {
        var documents: [Document] = []
        func add(_ path: String, _ text: String, entry: Bool = false) {
            documents.append(Document(path: path, bytes: Array(text.utf8), isEntry: entry))
        }
        if formats.contains(.hls) {
            for track in presentation.order.compactMap({ presentation.tracks[$0] }) where track.kind != .muxed {
                guard track.kind == .text || !track.segments.isEmpty else { continue }
                if let playlist = presentation.mediaPlaylist(track.id, listing) { add("\(track.id)/playlist.m3u8", HLSWriter.write(playlist)) }
                if let playlist = presentation.iFramePlaylist(track.id, listing) { add("\(track.id)/iframes.m3u8", HLSWriter.write(playlist)) }
            }
            add("master.m3u8", HLSWriter.write(presentation.multivariantPlaylist(listing)), entry: true)
        }
        if formats.contains(.hlsTS) {
            let variants = presentation.order.compactMap { presentation.tracks[$0] }.filter { $0.kind == .muxed }
            for track in variants {
                if let playlist = presentation.mediaPlaylist(track.id, listing) { add("\(track.id)/playlist.m3u8", HLSWriter.write(playlist)) }
            }
            add(formats.contains(.hls) ? "master-ts.m3u8" : "master.m3u8",
                HLSWriter.write(presentation.transportMultivariantPlaylist(listing) ?? MultivariantPlaylist()), entry: true)
        }
        if formats.contains(.dash), let mpd = presentation.mpd(listing) {
            documents.append(Document(path: "manifest.mpd", bytes: try MPDWriter.write(mpd), isEntry: true))
        }
        return documents
    }
}
