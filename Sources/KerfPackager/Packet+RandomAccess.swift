import KerfCore
import KerfMedia

extension Packet {
    /// Whether this keyframe-flagged video packet is an IDR/BLA picture (see `RandomAccess`).
    /// - Parameters:
    ///   - extradata: the track's setup data; without an avcC/hvcC record (first byte 1) the
    ///     payload is read as Annex B start codes.
    ///   - lengthSize: NAL length-field size of length-prefixed payloads (from avcC/hvcC).
    func startsIndependently(codec: String, extradata: [UInt8], lengthSize: Int) -> Bool {
        if extradata.first != 1 {
            return RandomAccess.isIndependent(codec: codec, sample: bytes, extradata: extradata)
        }
        return withUnsafeBytes { RandomAccess.isIndependent(codec: codec, sample: $0, lengthSize: lengthSize) }
    }
}
