import KerfCore
import KerfMedia

/// Splices in a live epoch: points on the channel timeline where a segment must start (or, without
/// a keyframe there, the first keyframe after), told to the segmenter as they are asked for.
extension LivePackager {
    /// Where a packet of the input falls on the channel timeline (nil before the epoch's first
    /// keyframe or without timestamps).
    public func channelTime(of packet: Packet) -> MediaTime? {
        guard let time = packet.dts ?? packet.pts else { return nil }
        return channelTime(ofInputTime: time)
    }

    /// Where a time of the input's timeline falls on the channel timeline (nil before the
    /// epoch's first keyframe).
    public func channelTime(ofInputTime time: MediaTime) -> MediaTime? {
        guard let origin else { return nil }
        return time - origin + timelineOffset
    }

    /// The input time of a channel time (nil before the epoch's first keyframe).
    public func inputTime(ofChannelTime time: MediaTime) -> MediaTime? {
        guard let origin else { return nil }
        return time - timelineOffset + origin
    }

    /// Half a frame of the reference track: a splice point this much after a keyframe is cut at it.
    public var spliceSlack: MediaTime {
        let frame = segmenter.frameDuration(track: segmenter.reference) ?? MediaTime(value: 1, timescale: 1000)
        return MediaTime(value: frame.value, timescale: frame.timescale * 2)
    }

    /// Asks for a segment to start at channel time `time`, or at the first keyframe after it.
    /// A time already passed cuts at the next keyframe taken.
    public func addSplicePoint(_ time: MediaTime) {
        guard hasOrigin else {
            heldSplicePoints.append(time)
            return
        }
        // The segmenter ignores points at or before its last cut: a late point goes just after
        // the last reference sample, so the next keyframe takes it.
        let point = referenceTime.map { max(time, $0 + MediaTime(value: 1, timescale: 90_000)) } ?? time
        segmenter.addSplicePoint(point - segmenterShift)
    }

    /// Forgets a splice point not cut at yet (a break ended early loses its planned return).
    public func removeSplicePoint(_ time: MediaTime) {
        heldSplicePoints.removeAll { $0 == time }
        if hasOrigin { segmenter.removeSplicePoint(time - segmenterShift) }
    }

    /// Channel time minus segmenter time: the segmenter measures from the epoch's origin, or on a
    /// media timeline from the channel's zero.
    private var segmenterShift: MediaTime { mediaTimeline == nil ? timelineOffset : .zero(timescale: 1) }

    /// Gives the segmenter the points asked for before the origin was known.
    func addHeldSplicePoints() {
        let held = heldSplicePoints
        heldSplicePoints = []
        for point in held { addSplicePoint(point) }
    }
}
