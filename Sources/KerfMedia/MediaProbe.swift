import KerfCore

/// Everything `kerf probe` reports about one input.
public struct ProbeReport: Sendable, Codable {
    public var url: String
    public var container: ContainerInfo
    public var tracks: [TrackInfo]
    /// Keyframe statistics per video track index.
    public var gops: [Int: GOPStatistics]
    /// Packets read per track index.
    public var packetCounts: [Int: Int]
    /// Closed captions found in the SEI of each video track that has any (CEA-608/708).
    public var captions: [Int: ClosedCaptions] = [:]
    public var targetSegmentDuration: Double
    public var verdict: StreamCopyVerdict
}

/// Opens an input, reads every packet once to measure keyframe spacing, and judges whether
/// it can be packaged by stream copy.
public enum MediaProbe {
    /// - Parameters:
    ///   - url: a path or libavformat URL.
    ///   - targetSegmentDuration: the segment duration the verdict is judged against, seconds.
    /// - Throws: `MediaError` when the input cannot be opened or its packets cannot be read.
    public static func probe(url: String, targetSegmentDuration: Double = 6) throws(MediaError) -> ProbeReport {
        let input = try MediaInput(url: url)
        return try probe(input: input, targetSegmentDuration: targetSegmentDuration)
    }

    public static func probe(input: MediaInput, targetSegmentDuration: Double) throws(MediaError) -> ProbeReport {
        var keyframes: [Int: [MediaTime]] = [:]
        var counts: [Int: Int] = [:]
        let videoTracks = Set(input.tracks.filter { $0.mediaType == .video }.map(\.index))
        for index in videoTracks { keyframes[index] = [] }
        var scanners = Swift.Dictionary(uniqueKeysWithValues: videoTracks.map { ($0, CaptionScanner(codec: input.tracks[$0].codec, extradata: input.tracks[$0].extradata)) })
        let packet = Packet()
        while try input.read(into: packet) == .packet {
            let index = packet.streamIndex
            counts[index, default: 0] += 1
            // Only pictures decoding can start from count (IDR/BLA, not open-GOP CRA/I-frames).
            if videoTracks.contains(index), packet.isKeyframe, let time = packet.pts ?? packet.dts,
               RandomAccess.isIndependent(codec: input.tracks[index].codec, sample: packet.bytes,
                                          extradata: input.tracks[index].extradata) {
                keyframes[index]!.append(time)
            }
            if videoTracks.contains(index) { packet.withUnsafeBytes { scanners[index]!.scan($0) } }
        }
        var gops: [Int: GOPStatistics] = [:]
        for (index, times) in keyframes {
            let track = input.tracks[index]
            let frame = track.frameRate.flatMap { rate -> MediaTime? in
                guard rate.numerator > 0 else { return nil }
                return MediaTime(value: rate.denominator, timescale: rate.numerator)
            }
            gops[index] = GOPStatistics(keyframeTimes: times, frameDuration: frame)
        }
        return ProbeReport(url: input.url, container: input.container, tracks: input.tracks, gops: gops,
                           packetCounts: counts, captions: scanners.compactMapValues { $0.found.isEmpty ? nil : $0.found },
                           targetSegmentDuration: targetSegmentDuration,
                           verdict: StreamCopyVerdict(tracks: input.tracks, gops: gops,
                                                      targetSegmentDuration: targetSegmentDuration))
    }
}
