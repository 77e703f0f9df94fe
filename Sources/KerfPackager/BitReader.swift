/// Reads the RBSP of a NAL unit bit by bit (ITU-T H.264 §7.2 / H.265 §7.2): emulation
/// prevention bytes (the 03 of 00 00 03) are skipped, and the reader knows how many bytes of
/// the NAL unit as stored it has taken, so a header parsed from the RBSP can be measured in
/// stored bytes.
struct BitReader {
    enum Failure: Error { case endOfData, invalid }

    private let bytes: ArraySlice<UInt8>
    private var index: Int
    private var zeros = 0
    private var current: UInt8 = 0
    private var bitsLeft = 0

    /// - Parameter bytes: the NAL unit from the first byte after its header.
    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// Stored bytes taken so far, counting a partly read byte as taken.
    var storedBytesRead: Int { index - bytes.startIndex }

    /// Whether the position is at a byte boundary.
    var isByteAligned: Bool { bitsLeft == 0 }

    private mutating func load() throws(Failure) {
        guard index < bytes.endIndex else { throw .endOfData }
        var byte = bytes[index]
        if zeros >= 2 && byte == 3 {
            index += 1
            zeros = 0
            guard index < bytes.endIndex else { throw .endOfData }
            byte = bytes[index]
        }
        zeros = byte == 0 ? zeros + 1 : 0
        index += 1
        current = byte
        bitsLeft = 8
    }

    mutating func bit() throws(Failure) -> Bool {
        if bitsLeft == 0 { try load() }
        bitsLeft -= 1
        return (current >> UInt8(bitsLeft)) & 1 == 1
    }

    /// `u(n)`, n ≤ 32.
    mutating func bits(_ count: Int) throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            let one = try bit()
            value = value << 1 | (one ? 1 : 0)
        }
        return value
    }

    mutating func skip(_ count: Int) throws(Failure) {
        for _ in 0..<count { _ = try bit() }
    }

    /// `ue(v)`: unsigned Exp-Golomb.
    mutating func ue() throws(Failure) -> UInt32 {
        var leadingZeros = 0
        while try !bit() {
            leadingZeros += 1
            guard leadingZeros < 32 else { throw .invalid }
        }
        let suffix = try bits(leadingZeros)
        return (1 << UInt32(leadingZeros)) - 1 + suffix
    }

    /// `ue(v)` as an Int no larger than `limit` (values that size loops and tables).
    mutating func ue(max limit: Int) throws(Failure) -> Int {
        let value = Int(try ue())
        guard value <= limit else { throw .invalid }
        return value
    }

    /// `se(v)`: signed Exp-Golomb.
    mutating func se() throws(Failure) -> Int {
        let code = Int(try ue())
        return code % 2 == 1 ? (code + 1) / 2 : -(code / 2)
    }
}

/// Ceil(Log2(n)) for n ≥ 1, the width of fields that index n things.
func ceilLog2(_ n: Int) -> Int {
    var bits = 0
    while (1 << bits) < n { bits += 1 }
    return bits
}
