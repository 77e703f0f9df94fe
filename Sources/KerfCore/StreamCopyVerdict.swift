/// Whether a set of tracks can be packaged for HLS/DASH by stream copy, and why not.
///
/// A pure function of track metadata and keyframe statistics, shared by `kerf probe`, the
/// packager (which refuses what cannot be copied) and the transcoder (which re-encodes exactly
/// the tracks with blocking findings).
public struct StreamCopyVerdict: Sendable, Hashable, Codable {
    public struct Finding: Sendable, Hashable, Codable {
        public enum Code: String, Sendable, Codable {
            case codecNotAllowed = "codec-not-allowed"
            case gopTooLong = "gop-too-long"
            case interlaced
            case noKeyframes = "no-keyframes"
            case irregularKeyframes = "irregular-keyframes"
            case formatRestricted = "format-restricted"
            case trackIgnored = "track-ignored"
            case noMediaTracks = "no-media-tracks"
        }
        /// The track concerned, or `nil` for the file as a whole.
        public var track: Int?
        public var code: Code
        /// True when the finding prevents stream copy; otherwise it is advice.
        public var blocking: Bool
        public var message: String
    }

    public var canStreamCopy: Bool
    public var findings: [Finding]

    /// Video codecs HLS and DASH players accept in CMAF/TS (RFC 8216bis §3, DASH-IF IOP).
    public static let videoCodecs: Set<String> = ["h264", "hevc", "av1"]
    /// Audio codecs accepted in CMAF; MP3 is accepted in HLS MPEG-TS only.
    public static let audioCodecs: Set<String> = ["aac", "ac3", "eac3", "opus", "mp3"]
    /// Text codecs Kerf converts to segmented WebVTT.
    public static let textCodecs: Set<String> = ["mov_text", "subrip", "webvtt", "ass", "ssa", "text"]

    /// Assesses tracks against a target segment duration.
    /// - Parameters:
    ///   - tracks: the tracks of one input.
    ///   - gops: keyframe statistics per video track index (absent: not measured).
    ///   - targetSegmentDuration: the segment duration the user wants, in seconds.
    public init(tracks: [TrackInfo], gops: [Int: GOPStatistics], targetSegmentDuration: Double) {
        var findings: [Finding] = []
        var mediaTracks = 0
        for track in tracks {
            switch track.mediaType {
            case .video:
                mediaTracks += 1
                if !Self.videoCodecs.contains(track.codec) {
                    findings.append(Finding(track: track.index, code: .codecNotAllowed, blocking: true,
                        message: "video codec \(track.codec) is not allowed in HLS/DASH (allowed: H.264, HEVC, AV1)"))
                }
                if let order = track.fieldOrder, order.isInterlaced {
                    findings.append(Finding(track: track.index, code: .interlaced, blocking: true,
                        message: "video is interlaced (\(order.rawValue)); HLS/DASH players expect progressive video"))
                }
                if let gop = gops[track.index] {
                    Self.assessGOP(gop, track: track, target: targetSegmentDuration, into: &findings)
                }
            case .audio:
                mediaTracks += 1
                if !Self.audioCodecs.contains(track.codec) {
                    findings.append(Finding(track: track.index, code: .codecNotAllowed, blocking: true,
                        message: "audio codec \(track.codec) is not allowed in HLS/DASH (allowed: AAC, AC-3, E-AC-3, Opus; MP3 in TS only)"))
                } else if track.codec == "mp3" {
                    findings.append(Finding(track: track.index, code: .formatRestricted, blocking: false,
                        message: "MP3 audio can be packaged in HLS MPEG-TS only, not in CMAF/DASH"))
                }
            case .subtitle:
                if !Self.textCodecs.contains(track.codec) {
                    findings.append(Finding(track: track.index, code: .trackIgnored, blocking: false,
                        message: "subtitle codec \(track.codec) cannot be converted to WebVTT; the track will be skipped"))
                }
            case .data where track.codec == "scte_35":
                findings.append(Finding(track: track.index, code: .trackIgnored, blocking: false,
                    message: "data track (scte_35): its splices start segments and are listed as ad markers"))
            case .data where track.codec == "timed_id3":
                findings.append(Finding(track: track.index, code: .trackIgnored, blocking: false,
                    message: "data track (timed_id3): its ID3 tags go into the CMAF segments as emsg timed metadata"))
            case .data, .attachment, .unknown:
                findings.append(Finding(track: track.index, code: .trackIgnored, blocking: false,
                    message: "\(track.mediaType.rawValue) track (\(track.codec)) is not packaged"))
            }
        }
        if mediaTracks == 0 {
            findings.append(Finding(track: nil, code: .noMediaTracks, blocking: true,
                message: "no audio or video track"))
        }
        self.findings = findings
        self.canStreamCopy = !findings.contains { $0.blocking }
    }

    private static func assessGOP(_ gop: GOPStatistics, track: TrackInfo, target: Double,
                                  into findings: inout [Finding]) {
        guard gop.keyframeCount > 0 else {
            findings.append(Finding(track: track.index, code: .noKeyframes, blocking: true,
                message: "video has no keyframes, so no segment can start"))
            return
        }
        let frame = track.frameRate.map { $0.doubleValue > 0 ? 1 / $0.doubleValue : 0 } ?? 0
        if let longest = gop.maxInterval, longest > target + frame / 2 {
            findings.append(Finding(track: track.index, code: .gopTooLong, blocking: true,
                message: "longest GOP is \(format(longest)) s, longer than the \(format(target)) s segment duration"))
        }
        if !gop.isRegular, let shortest = gop.minInterval, let longest = gop.maxInterval {
            findings.append(Finding(track: track.index, code: .irregularKeyframes, blocking: false,
                message: "keyframe intervals are irregular (\(format(shortest))–\(format(longest)) s): segment durations will vary and renditions may not align"))
        }
    }

    private static func format(_ seconds: Double) -> String {
        let rounded = (seconds * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
