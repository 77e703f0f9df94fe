/// ISO BMFF boxes (ISO/IEC 14496-12 §4.2) read in place from a byte array: the validator's own
/// reader, which never reads outside the range it is given and stops at the first box whose
/// size does not fit.
enum ISOBoxes {
    struct Box {
        var type: String
        /// Offset of the box's first byte (its size field).
        var start: Int
        /// The bytes after the header (and after nothing else: a full box's version and flags
        /// are the first four bytes of its body).
        var body: Range<Int>

        var end: Int { body.upperBound }
    }

    /// The boxes laid end to end in `range`.
    static func children(_ bytes: [UInt8], _ range: Range<Int>) -> [Box] {
        var result: [Box] = []
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            let available = range.upperBound - offset
            var size = Int(read32(bytes, offset))
            var header = 8
            if size == 1, offset + 16 <= range.upperBound {
                let large = read64(bytes, offset + 8)
                guard large <= UInt64(available) else { break }
                size = Int(large)
                header = 16
            } else if size == 0 {
                size = available
            }
            guard size >= header, size <= available else { break }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            result.append(Box(type: type, start: offset, body: (offset + header)..<(offset + size)))
            offset += size
        }
        return result
    }

    /// The top-level boxes of `bytes`.
    static func topLevel(_ bytes: [UInt8]) -> [Box] { children(bytes, 0..<bytes.count) }

    /// The first child of `range` of type `type`.
    static func first(_ type: String, _ bytes: [UInt8], _ range: Range<Int>) -> Box? {
        children(bytes, range).first { $0.type == type }
    }

    /// The box at the end of `path` below `range` (each name a child of the previous box).
    static func find(_ path: [String], _ bytes: [UInt8], _ range: Range<Int>) -> Box? {
        var current: Box?
        var scope = range
        for name in path {
            guard let next = first(name, bytes, scope) else { return nil }
            current = next
            scope = next.body
        }
        return current
    }

    static func read16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    static func read32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    static func read64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        UInt64(read32(bytes, offset)) << 32 | UInt64(read32(bytes, offset + 4))
    }

    /// Four bytes as a four-character code.
    static func fourCC(_ bytes: [UInt8], _ offset: Int) -> String {
        String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
    }
}
