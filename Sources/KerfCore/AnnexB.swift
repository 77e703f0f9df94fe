/// Annex B byte streams (ITU-T H.264/H.265 Annex B): NAL units separated by start codes.
public enum AnnexB {
    /// True when `bytes` begins with a 3- or 4-byte start code.
    public static func startsWithStartCode(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0, 0, 1]) || bytes.starts(with: [0, 0, 0, 1])
    }

    /// The NAL units between start codes (00 00 01 or 00 00 00 01), without the start codes
    /// and without trailing zero bytes. Each unit is its own array, indexed from 0.
    public static func nalUnits(_ bytes: [UInt8]) -> [[UInt8]] {
        var units: [[UInt8]] = []
        var i = 0, start: Int? = nil
        while i + 2 < bytes.count {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                if let s = start {
                    var end = i
                    while end > s, bytes[end - 1] == 0 { end -= 1 }
                    units.append(Array(bytes[s..<end]))
                }
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        if let s = start, s < bytes.count { units.append(Array(bytes[s...])) }
        return units
    }

    /// The RBSP of a NAL unit: every 0x03 that follows two zero bytes is dropped.
    public static func removingEmulationPrevention(_ nal: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(nal.count)
        var zeros = 0
        for byte in nal {
            if zeros >= 2, byte == 3 { zeros = 0; continue }
            out.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return out
    }

    /// `nal` with emulation prevention applied (ITU-T H.264 §7.4.1): a 0x03 goes after every
    /// two zero bytes followed by a byte of 0x00 to 0x03, and after two zero bytes that end
    /// the unit. Applied to a NAL unit that already has its emulation prevention bytes, it
    /// escapes them again (00 00 03 becomes 00 00 03 03), so `removingEmulationPrevention`
    /// gives back exactly `nal`.
    public static func addingEmulationPrevention(_ nal: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(nal.count + nal.count / 64 + 1)
        var zeros = 0
        for byte in nal {
            if zeros >= 2, byte <= 3 {
                out.append(3)
                zeros = 0
            }
            out.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        if zeros >= 2 { out.append(3) }
        return out
    }
}
