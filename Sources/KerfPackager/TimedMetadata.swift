import KerfCore

/// A timed ID3 tag of an input, carried in the CMAF segments as an `emsg` (AOM "Carriage of ID3
/// Timed Metadata in the Common Media Application Format": version 1, scheme
/// `https://aomedia.org/emsg/ID3`, the tag as message data) and signalled in the MPD by an
/// InbandEventStream.
struct TimedMetadata: Sendable, Equatable {
    static let scheme = "https://aomedia.org/emsg/ID3"

    /// Presentation time from the presentation start.
    var time: MediaTime
    var bytes: [UInt8]

    /// The `emsg` box (ISO/IEC 23009-1 §5.10.3.3, version 1) of the tag in a track of
    /// `timescale`, with event id `id`; its duration is unknown (0xFFFFFFFF).
    func eventMessage(timescale: Int64, id: UInt32) -> [UInt8] {
        var w = BoxWriter()
        w.fullBox("emsg", version: 1, flags: 0) {
            $0.u32(UInt32(timescale))
            $0.u64(UInt64(max(time.rescaled(to: timescale).value, 0)))
            $0.u32(0xFFFF_FFFF)
            $0.u32(id)
            $0.bytes.append(contentsOf: Array(Self.scheme.utf8) + [0])
            $0.bytes.append(0)  // value: empty
            $0.bytes.append(contentsOf: bytes)
        }
        return w.bytes
    }
}
