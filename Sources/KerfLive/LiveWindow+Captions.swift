import KerfCore
import KerfManifest

extension LiveWindow {
    /// Closed captions found in a video rendition's samples while ingesting: they are added to
    /// the rendition and to the MPEG-TS variants it leads, which are announced again, so the
    /// multivariant playlists list the CLOSED-CAPTIONS group and the MPD the Accessibility
    /// descriptor. A live rendition never says it has none (captions may start later): its
    /// captions stay nil until some are found.
    /// - Returns: whether this changed what is signalled.
    package mutating func addCaptions(_ found: ClosedCaptions, folder: String) -> Bool {
        guard !found.isEmpty, presentation.tracks[folder] != nil else { return false }
        var changed = false
        let led = renditions.filter { $0.value.isTransportStream && $0.value.track.folder == folder }.map(\.key).sorted()
        for id in [folder] + led {
            guard var description = presentation.tracks[id]?.description else { continue }
            // The labels given now win over journaled ones (a changed `captions:`).
            let merged = description.captions.map { found.union($0) } ?? found
            guard merged != description.captions else { continue }
            description.captions = merged
            presentation.apply(.started(description))
            changed = true
        }
        return changed
    }
}
