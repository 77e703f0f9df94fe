/// The `emsg` boxes at the top level of a media segment (ISO/IEC 23009-1 §5.10.3.3, version
/// 1), read field by field for tests that check what Kerf puts in its segments.
public struct EventMessageBox: Equatable, Sendable {
    /// presentation_time in seconds, and the timescale it was given in.
    public var seconds: Double
    public var timescale: Int
    public var scheme: String
    public var value: String
    public var id: Int
    /// event_duration in seconds (nil: 0xFFFFFFFF, unknown).
    public var duration: Double?
    public var data: [UInt8]

    /// The version 1 emsg boxes of `bytes`, in order; a box of another version or cut short
    /// ends the reading.
    public static func read(_ bytes: [UInt8]) -> [EventMessageBox] {
        func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        var found: [EventMessageBox] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let size = u32(offset), type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard size >= 8, offset + size <= bytes.count else { break }
            if type == "emsg" {
                let body = offset + 8, end = offset + size
                guard body + 24 <= end, bytes[body] == 1 else { break }
                let timescale = u32(body + 4), time = u32(body + 8) << 32 | u32(body + 12)
                let duration = u32(body + 16), id = u32(body + 20)
                guard let schemeEnd = bytes[(body + 24)..<end].firstIndex(of: 0),
                      let valueEnd = bytes[(schemeEnd + 1)..<end].firstIndex(of: 0), timescale > 0 else { break }
                found.append(EventMessageBox(seconds: Double(time) / Double(timescale), timescale: timescale,
                                             scheme: String(decoding: bytes[(body + 24)..<schemeEnd], as: UTF8.self),
                                             value: String(decoding: bytes[(schemeEnd + 1)..<valueEnd], as: UTF8.self), id: id,
                                             duration: duration == 0xFFFF_FFFF ? nil : Double(duration) / Double(timescale),
                                             data: Array(bytes[(valueEnd + 1)..<end])))
            }
            offset += size
        }
        return found
    }
}
