/// CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection, no final XOR), as
/// MPEG-TS PSI sections and SCTE-35 splice_info_sections carry it; over a whole section
/// including its CRC_32 it is 0.
public enum MPEGCRC32 {
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc = crc << 8 ^ table[Int((crc >> 24) ^ UInt32(byte))]
        }
        return crc
    }

    /// `bytes` followed by their CRC_32, most significant byte first.
    public static func appended(to bytes: [UInt8]) -> [UInt8] {
        let crc = checksum(bytes)
        return bytes + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]
    }

    private static let table: [UInt32] = (0..<256).map { (index: Int) -> UInt32 in
        var value = UInt32(index) << 24
        for _ in 0..<8 { value = value & 0x8000_0000 != 0 ? value << 1 ^ 0x04c1_1db7 : value << 1 }
        return value
    }
}
