/// Reads a byte-aligned binary section (MPEG-TS PSI, SCTE-35) most significant bit first,
/// without emulation prevention; every read past the end throws `.truncated`.
struct SectionBitReader {
    private let bytes: [UInt8]
    /// Position in bits from the start of `bytes`.
    private(set) var position: Int
    /// The bit position reads must stay before (a length field's end).
    var limit: Int

    init(_ bytes: [UInt8], from byte: Int = 0) {
        self.bytes = bytes
        self.position = byte * 8
        self.limit = bytes.count * 8
    }

    var bytePosition: Int { position / 8 }
    var bitsLeft: Int { limit - position }

    mutating func bits(_ count: Int, _ field: String) throws(SpliceInfoSection.Malformed) -> UInt64 {
        guard position + count <= limit else {
            throw SpliceInfoSection.Malformed(.truncated, "\(field) runs past the end (byte \(bytePosition) of \(limit / 8))")
        }
        var value: UInt64 = 0
        for _ in 0..<count {
            let bit = (bytes[position >> 3] >> UInt8(7 - position & 7)) & 1
            value = value << 1 | UInt64(bit)
            position += 1
        }
        return value
    }

    mutating func flag(_ field: String) throws(SpliceInfoSection.Malformed) -> Bool { try bits(1, field) == 1 }

    mutating func skip(_ count: Int, _ field: String) throws(SpliceInfoSection.Malformed) { _ = try bits(count, field) }

    /// `count` whole bytes (the reader must be byte-aligned).
    mutating func bytes(_ count: Int, _ field: String) throws(SpliceInfoSection.Malformed) -> [UInt8] {
        guard position % 8 == 0, position + count * 8 <= limit else {
            throw SpliceInfoSection.Malformed(.truncated, "\(field) (\(count) bytes) runs past the end (byte \(bytePosition) of \(limit / 8))")
        }
        defer { position += count * 8 }
        return Array(bytes[(position / 8)..<(position / 8 + count)])
    }
}

/// Writes a binary section most significant bit first (the inverse of `SectionBitReader`).
struct SectionBitWriter {
    private(set) var bytes: [UInt8] = []
    private var used = 0

    /// Appends the low `count` bits of `value`.
    mutating func put(_ value: UInt64, _ count: Int) {
        for index in stride(from: count - 1, through: 0, by: -1) {
            if used == 0 { bytes.append(0) }
            if (value >> UInt64(index)) & 1 == 1 { bytes[bytes.count - 1] |= 1 << UInt8(7 - used) }
            used = (used + 1) % 8
        }
    }

    mutating func put(_ flag: Bool) { put(flag ? 1 : 0, 1) }

    /// Reserved bits: all ones.
    mutating func reserved(_ count: Int) { put(UInt64.max, count) }

    mutating func put(bytes more: [UInt8]) {
        precondition(used == 0, "byte-aligned only")
        bytes += more
    }
}
