import KerfCore
import KerfManifest

extension LiveWindow.Rendition {
    /// How the manifests list it: an MPEG-TS variant, or its track's kind.
    var kind: RenditionDescription.Kind {
        if isTransportStream { return .muxed }
        switch track.kind {
        case .video: return .video
        case .audio: return .audio
        case .text: return .text
        }
    }

    /// The extension of its segment files: `m4s` (CMAF), `ts` (MPEG-TS variants), `vtt` (WebVTT).
    var fileExtension: String { isTransportStream ? "ts" : track.kind == .text ? "vtt" : "m4s" }

    /// Its segments carry their times in a timescale of their own, which becomes the
    /// rendition's: an MPEG-TS variant's (90 kHz) and a text rendition's (its lead track's),
    /// there being no init segment to say it.
    var timedBySegments: Bool { isTransportStream || track.kind == .text }
}

extension LiveWindow {
    /// Whether a folder is a text rendition's (WebVTT segments, no init segment nor parts).
    package func isText(_ folder: String) -> Bool { renditions[folder]?.track.kind == .text }
}
