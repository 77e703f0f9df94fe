import KerfCore
import KerfManifest
import KerfPackager
import KerfTranscode

/// One live channel's settings (a `channels:` entry of `kerf serve`'s configuration). Times are
/// seconds here, at the configuration edge; the channel turns them into `MediaTime`.
public struct ChannelConfiguration: Sendable, Equatable {
    /// What a channel publishes: HLS and DASH over CMAF, HLS over MPEG-TS.
    public typealias Format = PackageOptions.Format

    /// A libavformat URL to pull, a file to loop at real-time pace, or `rtmp` for a channel
    /// RTMP publishers push to.
    public var input: String
    /// Target segment duration, in seconds.
    public var segmentDuration = 6.0
    /// Seconds of media listed in playlists (DASH timeShiftBufferDepth).
    public var window = 60.0
    /// Re-encode the input to this ladder (`ladder:`, as `kerf package --ladder`).
    public var ladder: Ladder?
    /// `formats:` (as `kerf package --formats`): `hls-ts` adds `master-ts.m3u8`.
    public var formats: Set<Format> = [.hls, .dash]
    /// Where channel time 0 is on the wall clock (DASH availabilityStartTime).
    public enum Timeline: String, Sendable, Equatable, CaseIterable {
        /// The channel's first start (kept in the archive journal across restarts): media times,
        /// `tfdt` and DASH Period starts count from there, small numbers every player handles.
        case channelStart = "channel-start"
        /// 1970-01-01T00:00:00Z: channel time is Unix time.
        case unix
    }

    /// `timeline:` (ignored with `epoch:`, whose date is channel time 0). Nil: `channel-start`,
    /// but `unix` for an encrypted channel without an archive (a restart would begin its
    /// timeline again, and live IVs and rotated keys follow channel time: they would repeat).
    public var timeline: Timeline?

    /// The timeline in effect.
    public var effectiveTimeline: Timeline {
        timeline ?? (encryption != nil && archive == nil ? .unix : .channelStart)
    }

    /// What a live MPD's SegmentTimelines list.
    public enum DASHTimeline: String, Sendable, Equatable, CaseIterable {
        /// Every segment since the Period start, the ones before the time-shift buffer no
        /// longer available (GStreamer's dashdemux and dashdemux2 cannot join a live stream
        /// otherwise).
        case period
        /// Only the segments in the time-shift buffer.
        case window
    }

    /// `dash-timeline:`.
    public var dashTimeline = DASHTimeline.period
    /// `ad-markers:` how HLS lists splices (as `kerf package --ad-markers`).
    public var adMarkers: Presentation.AdMarkers = [.dateRange]
    /// `dash-events:` where DASH carries splices (as `kerf package --dash-events`).
    public var dashEvents: Presentation.DASHEvents = [.period]
    /// `ad-periods:` a DASH Period starts at each splice out and return.
    public var adPeriods = false
    /// `captions:` the language and name of closed-caption channels found in the video, by
    /// INSTREAM-ID (as `kerf package --set …:captions=`).
    public var captions: [String: ClosedCaptions.Label] = [:]
    /// `epoch:` the wall-clock time (Unix seconds) of input timestamp 0: the channel timeline
    /// follows the input's timestamps, so redundant origins name and number alike.
    public var epoch: Double?
    /// `part-duration:` seconds of an LL-HLS partial segment (nil: no low latency).
    public var partDuration: Double?
    /// `archive:` a folder keeping the window's segments and journal on disk: a DVR window
    /// of hours without the memory, restored when the origin restarts.
    public var archive: String?
    /// The stream key an RTMP publisher must give (`key:`; push channels, `input: rtmp`).
    public var key: String?
    /// `encryption:` Common Encryption of the CMAF renditions (`cenc`/`cbcs`, keys or a CPIX
    /// document, DRM systems), as `kerf package --encrypt` does.
    public var encryption: CommonEncryption?
    /// Keys read but not served yet.
    public var pendingKeys: [String] = []

    public init(input: String, segmentDuration: Double = 6.0, window: Double = 60.0) {
        self.input = input
        self.segmentDuration = segmentDuration
        self.window = window
    }

    /// The target segment duration as media time (milliseconds).
    public var targetDuration: MediaTime { MediaTime(seconds: segmentDuration, timescale: 1000) }
    /// The LL-HLS part target as media time (milliseconds).
    public var partTarget: MediaTime? { partDuration.map { MediaTime(seconds: $0, timescale: 1000) } }
    /// True for a channel RTMP publishers push to (`input: rtmp`).
    public var isPush: Bool { input == "rtmp" }
    /// True when the input is a file to loop rather than a stream to pull.
    public var isFileInput: Bool { !isPush && (input.hasPrefix("file:") || !input.contains("://")) }
}
