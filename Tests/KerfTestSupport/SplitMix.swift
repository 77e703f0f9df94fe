/// A small deterministic PRNG (SplitMix64) so fuzz cases are reproducible from their seed.
public struct SplitMix: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension SplitMix {
    /// `bytes` after one to four random mutations, as the parsers' mutation tests make them:
    /// a truncation, a byte replaced, a piece of `junk` inserted or a byte removed, each at a
    /// random position.
    public mutating func mutate(_ bytes: [UInt8], junk: [[UInt8]]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<(1 + next() % 4) {
            let position = Int(next() % UInt64(bytes.count + 1))
            switch next() % 4 {
            case 0: bytes = Array(bytes.prefix(position))
            case 1: if position < bytes.count { bytes[position] = UInt8(truncatingIfNeeded: next()) }
            case 2: bytes.insert(contentsOf: junk[Int(next() % UInt64(junk.count))], at: position)
            default: if position < bytes.count { bytes.remove(at: position) }
            }
        }
        return bytes
    }
}
