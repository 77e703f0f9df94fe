import Testing
@testable import KerfPackager

/// Reading ISO BMFF boxes back in tests: big-endian fields and box trees, with offsets
/// absolute in the whole byte array.
func u16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) << 8 | Int(b[at + 1]) }
func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
}
func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) << 32 | UInt64(u32(b, at + 4)) }

struct Box {
    var type: String
    var offset: Int  // absolute, in the whole byte array
    var size: Int
}

/// Top-level boxes of `bytes[range]`, with absolute offsets.
func boxes(_ bytes: [UInt8], in range: Range<Int>? = nil) -> [Box] {
    let range = range ?? 0..<bytes.count
    return Boxes.topLevel(Array(bytes[range])).map { Box(type: $0.type, offset: range.lowerBound + $0.offset, size: $0.size) }
}

/// The children of a container box.
func children(_ bytes: [UInt8], of box: Box, skipping header: Int = 8) -> [Box] {
    boxes(bytes, in: box.offset + header..<box.offset + box.size)
}

func child(_ bytes: [UInt8], of box: Box, _ type: String) throws -> Box {
    try #require(children(bytes, of: box).first { $0.type == type })
}

/// (version, flags) of a full box.
func fullBoxHeader(_ bytes: [UInt8], _ box: Box) -> (version: UInt8, flags: UInt32) {
    (bytes[box.offset + 8], u32(bytes, box.offset + 8) & 0x00ff_ffff)
}
