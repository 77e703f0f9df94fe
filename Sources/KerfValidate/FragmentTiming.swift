/// Presentation times of the samples in ISO BMFF movie fragments, read from `tfdt` and `trun`
/// (ISO/IEC 14496-12 §8.8), in the track's timescale.
///
/// libavformat shifts the timestamps of a fragment with negative composition offsets by an
/// amount that depends on the fragment's own offsets, so a segment read alone can appear to
/// start a frame or two late. The earliest presentation time of a CMAF segment is defined by
/// the boxes themselves: this reads them.
enum FragmentTiming {
    /// First presentation time and end of the last presented sample of track `trackID` (any
    /// track when nil) over every `moof` in `bytes`; nil when there is no fragment for it.
    static func presentationRange(_ bytes: [UInt8], trackID: UInt32?) -> (start: Int64, end: Int64)? {
        var start: Int64?
        var end: Int64?
        var trexDuration: UInt32 = 0
        // An edit list's media time: the decode-timeline instant presented at time 0.
        var editShift: Int64 = 0
        for box in boxes(bytes, 0..<bytes.count) {
            if box.type == "moov" {
                for child in boxes(bytes, box.body) {
                    if child.type == "mvex" {
                        for trex in boxes(bytes, child.body) where trex.type == "trex" && trex.body.count >= 24 {
                            let id = read32(bytes, trex.body.lowerBound + 4)
                            if trackID == nil || id == trackID { trexDuration = read32(bytes, trex.body.lowerBound + 12) }
                        }
                    } else if child.type == "trak", let shift = editListShift(bytes, child.body, trackID: trackID) {
                        editShift = shift
                    }
                }
            }
            guard box.type == "moof" else { continue }
            for traf in boxes(bytes, box.body) where traf.type == "traf" {
                var decode: Int64?
                var defaultDuration = trexDuration
                var matches = false
                for child in boxes(bytes, traf.body) {
                    let body = child.body
                    switch child.type {
                    case "tfhd" where body.count >= 8:
                        let flags = read32(bytes, body.lowerBound) & 0xFFFFFF
                        let id = read32(bytes, body.lowerBound + 4)
                        matches = trackID == nil || id == trackID
                        var offset = body.lowerBound + 8
                        if flags & 0x1 != 0 { offset += 8 }
                        if flags & 0x2 != 0 { offset += 4 }
                        if flags & 0x8 != 0, offset + 4 <= body.upperBound { defaultDuration = read32(bytes, offset) }
                    case "tfdt" where body.count >= 8:
                        let version = bytes[body.lowerBound]
                        if version == 1, body.count >= 12 {
                            decode = Int64(bitPattern: UInt64(read32(bytes, body.lowerBound + 4)) << 32 | UInt64(read32(bytes, body.lowerBound + 8)))
                        } else {
                            decode = Int64(read32(bytes, body.lowerBound + 4))
                        }
                    case "trun" where matches && body.count >= 8:
                        // Far from any real timeline: skip rather than risk overflowing.
                        guard var time = decode, time >= 0, time < 1 << 60 else { continue }
                        let version = bytes[body.lowerBound]
                        let flags = read32(bytes, body.lowerBound) & 0xFFFFFF
                        let count = Int(read32(bytes, body.lowerBound + 4))
                        var offset = body.lowerBound + 8
                        if flags & 0x1 != 0 { offset += 4 }
                        if flags & 0x4 != 0 { offset += 4 }
                        let fields = [0x100, 0x200, 0x400, 0x800].filter { flags & UInt32($0) != 0 }.count
                        // Without per-sample fields the count is not bounded by the box size: a
                        // hostile one must not make this loop for billions of samples.
                        guard count >= 0, count <= 1_000_000, offset + count * fields * 4 <= body.upperBound else { continue }
                        for _ in 0..<count {
                            var duration = defaultDuration
                            var composition: Int64 = 0
                            if flags & 0x100 != 0 { duration = read32(bytes, offset); offset += 4 }
                            if flags & 0x200 != 0 { offset += 4 }
                            if flags & 0x400 != 0 { offset += 4 }
                            if flags & 0x800 != 0 {
                                let raw = read32(bytes, offset)
                                composition = version == 0 ? Int64(raw) : Int64(Int32(bitPattern: raw))
                                offset += 4
                            }
                            let presented = time + composition
                            start = min(start ?? presented, presented)
                            end = max(end ?? presented + Int64(duration), presented + Int64(duration))
                            time += Int64(duration)
                        }
                        decode = time
                    default:
                        break
                    }
                }
            }
        }
        guard let start, let end else { return nil }
        return (start - editShift, end - editShift)
    }

    /// The media time of the first edit of `trak` (when it is the track asked for), 0 without
    /// an edit list; nil for another track.
    private static func editListShift(_ bytes: [UInt8], _ trak: Range<Int>, trackID: UInt32?) -> Int64? {
        var id: UInt32?
        var shift: Int64 = 0
        for child in boxes(bytes, trak) {
            let body = child.body
            if child.type == "tkhd", body.count >= 24 {
                id = read32(bytes, body.lowerBound + (bytes[body.lowerBound] == 1 ? 20 : 12))
            } else if child.type == "edts" {
                for elst in boxes(bytes, body) where elst.type == "elst" && elst.body.count >= 8 {
                    let version = bytes[elst.body.lowerBound]
                    let entries = read32(bytes, elst.body.lowerBound + 4)
                    var offset = elst.body.lowerBound + 8
                    // Skip empty edits (media time -1): they delay, they do not shift.
                    for _ in 0..<min(entries, 16) {
                        let size = version == 1 ? 20 : 12
                        guard offset + size <= elst.body.upperBound else { break }
                        let mediaTime: Int64 = version == 1
                            ? Int64(bitPattern: UInt64(read32(bytes, offset + 8)) << 32 | UInt64(read32(bytes, offset + 12)))
                            : Int64(Int32(bitPattern: read32(bytes, offset + 4)))
                        offset += size
                        if mediaTime >= 0 && mediaTime < 1 << 40 {
                            shift = mediaTime
                            break
                        }
                    }
                }
            }
        }
        guard trackID == nil || id == trackID else { return nil }
        return shift
    }

    private static func boxes(_ bytes: [UInt8], _ range: Range<Int>) -> [ISOBoxes.Box] { ISOBoxes.children(bytes, range) }

    private static func read32(_ bytes: [UInt8], _ offset: Int) -> UInt32 { ISOBoxes.read32(bytes, offset) }
}
