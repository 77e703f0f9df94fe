/// Appends ISO BMFF boxes (ISO/IEC 14496-12) to a byte buffer, big-endian.
struct BoxWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff)) }
    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xff))
        bytes.append(UInt8((v >> 8) & 0xff)); bytes.append(UInt8(v & 0xff))
    }
    mutating func u64(_ v: UInt64) { u32(UInt32(v >> 32)); u32(UInt32(v & 0xffff_ffff)) }
    mutating func fourCC(_ code: String) { bytes.append(contentsOf: Array(code.utf8.prefix(4))) }

    /// Writes a box whose size is patched after `body` ran.
    mutating func box(_ type: String, _ body: (inout BoxWriter) -> Void) {
        let start = bytes.count
        u32(0)
        fourCC(type)
        body(&self)
        patch32(at: start, UInt32(bytes.count - start))
    }

    /// A full box: version and 24-bit flags after the header.
    mutating func fullBox(_ type: String, version: UInt8, flags: UInt32, _ body: (inout BoxWriter) -> Void) {
        box(type) { w in
            w.u8(version)
            w.u8(UInt8((flags >> 16) & 0xff)); w.u8(UInt8((flags >> 8) & 0xff)); w.u8(UInt8(flags & 0xff))
            body(&w)
        }
    }

    mutating func patch32(at offset: Int, _ v: UInt32) {
        bytes[offset] = UInt8(v >> 24); bytes[offset + 1] = UInt8((v >> 16) & 0xff)
        bytes[offset + 2] = UInt8((v >> 8) & 0xff); bytes[offset + 3] = UInt8(v & 0xff)
    }
}

/// Walks the top-level boxes of ISO BMFF bytes.
enum Boxes {
    /// (type, offset, size) of each top-level box; stops at the first malformed header.
    static func topLevel(_ bytes: [UInt8]) -> [(type: String, offset: Int, size: Int)] {
        var result: [(String, Int, Int)] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            var size = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            if size == 0 { size = bytes.count - offset }
            guard size >= 8, offset + size <= bytes.count else { break }
            result.append((type, offset, size))
            offset += size
        }
        return result
    }
}
