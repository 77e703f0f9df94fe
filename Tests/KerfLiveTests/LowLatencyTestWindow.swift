import KerfCore
import KerfPackager
@testable import KerfLive

/// A window with one H.264 rendition `video` (90 kHz) and 0.5 s parts, its first epoch begun at
/// channel time 0 and its init segment in: what the LL-HLS window tests fill by hand.
enum LowLatencyTestWindow {
    static func make(window: Int64, origin: Double) -> (window: LiveWindow, epoch: Int) {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video", name: "video", language: nil)
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: window, timescale: 1),
                                partTarget: MediaTime(value: 1, timescale: 2), origin: origin)
        let epoch = window.beginEpoch(tracks: [track], start: .zero(timescale: 1000), now: origin)
        window.addInit(folder: "video", epoch: epoch.id, bytes: [0], timescale: 90_000)
        return (window, epoch.id)
    }
}
