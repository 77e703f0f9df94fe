import KerfCore
import KerfCrypto
import KerfMedia
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfPackager

// MARK: - Reading bits back

/// A bit reader written for these tests: the RBSP of a NAL unit after its header (00 00 03
/// loses its 03), counting the stored bytes it took.
struct HandBits {
    var bytes: [UInt8]
    var stored = 0
    var bit = 0
    var zeros = 0
    var current: UInt8 = 0

    init(_ nal: ArraySlice<UInt8>) { bytes = Array(nal) }

    mutating func u(_ n: Int) -> Int {
        var v = 0
        for _ in 0..<n {
            if bit == 0 {
                if zeros >= 2 && bytes[stored] == 3 { stored += 1; zeros = 0 }
                current = bytes[stored]
                zeros = current == 0 ? zeros + 1 : 0
                stored += 1
                bit = 8
            }
            bit -= 1
            v = v << 1 | Int((current >> UInt8(bit)) & 1)
        }
        return v
    }

    mutating func ue() -> Int {
        var zeros = 0
        while u(1) == 0 { zeros += 1 }
        return (1 << zeros) - 1 + u(zeros)
    }

    mutating func se() -> Int {
        let k = ue()
        return k % 2 == 1 ? (k + 1) / 2 : -(k / 2)
    }
}

/// The length-prefixed NAL units of a sample: (offset of the NAL unit, its length).
func nalUnits(_ sample: [UInt8]) -> [(offset: Int, length: Int)] {
    var units: [(Int, Int)] = []
    var at = 0
    while at + 4 <= sample.count {
        let length = Int(u32(sample, at))
        units.append((at + 4, length))
        at += 4 + length
    }
    return units
}

/// The first `count` video samples of a fixture and its codec setup.
func videoSamples(_ fixture: String, count: Int) throws -> (samples: [[UInt8]], extradata: [UInt8]) {
    let input = try MediaInput(url: Fixtures.path(fixture))
    let video = try #require(input.tracks.first { $0.mediaType == .video })
    var samples: [[UInt8]] = []
    let packet = Packet()
    while samples.count < count, try input.read(into: packet) == .packet {
        if packet.streamIndex == video.index { samples.append(packet.bytes) }
    }
    return (samples, input.codecParameters(track: video.index).extradata)
}

/// The map the rules give, from slice header sizes found by hand: NAL units merged into
/// entries, each ending with the protected part of a slice.
func expectedMap(_ sample: [UInt8], headerSize: ([UInt8], Int, Int) -> Int?, cenc: Bool) -> [Subsample] {
    var entries: [Subsample] = []
    var clear = 0
    for (offset, length) in nalUnits(sample) {
        guard let header = headerSize(sample, offset, length) else {
            clear += 4 + length
            continue
        }
        var protected = length - header
        if cenc { protected -= protected % 16 }
        entries.append(Subsample(clear: clear + 4 + length - protected, protected: protected))
        clear = 0
    }
    if clear > 0 { entries.append(Subsample(clear: clear, protected: 0)) }
    return entries
}

// MARK: - Subsample maps
