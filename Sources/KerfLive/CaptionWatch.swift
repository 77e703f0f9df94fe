import KerfCore
import KerfMedia
import KerfPackager

/// Reads the SEI of every video sample an epoch ingests for CEA-608/708 captions
/// (`CaptionScanner`), and says when a rendition's set of channels grew, to be announced again.
struct CaptionWatch {
    private struct Video {
        let folder: String
        var scanner: CaptionScanner
        /// What was last handed on.
        var reported = ClosedCaptions()
    }

    /// By input stream index.
    private var videos: [Int: Video] = [:]

    init(tracks: [LivePackager.Track]) {
        for track in tracks where track.kind == .video {
            videos[track.info.index] = Video(folder: track.folder, scanner: CaptionScanner(codec: track.info.codec, extradata: track.info.extradata))
        }
    }

    /// Scans a packet (other tracks' are ignored).
    /// - Returns: the rendition and the captions found so far when they grew with it.
    mutating func scan(_ packet: Packet) -> (folder: String, captions: ClosedCaptions)? {
        let index = packet.streamIndex
        guard videos[index] != nil else { return nil }
        // Scanned in place: a copy of the scanner per packet would copy its buffers when they change.
        packet.withUnsafeBytes { videos[index]!.scanner.scan($0) }
        let found = videos[index]!.scanner.found
        guard found != videos[index]!.reported else { return nil }
        videos[index]!.reported = found
        return (videos[index]!.folder, found)
    }
}

extension EpochSession {
    /// Announces captions found in `packet` once the epoch's renditions are in the window.
    mutating func watchCaptions(_ packet: Packet) {
        guard epoch != nil, let (folder, found) = captions.scan(packet) else { return }
        // With the labels `captions:` gives them; journaled, so a restarted origin signals them.
        let labelled = ClosedCaptions.labelled(found, channel.configuration.captions)
        if channel.window.withLock({ $0.addCaptions(labelled, folder: folder) }) {
            channel.logger.info("closed captions found", metadata: ["rendition": "\(folder)", "channels": "\(found.instreamIDs.joined(separator: ","))"])
            channel.journal([.captions(folder: folder, labelled)])
            channel.publish()
        }
    }
}
