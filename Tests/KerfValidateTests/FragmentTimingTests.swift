import Testing
@testable import KerfValidate
import KerfTestTags

@Suite(.tags(.unit)) struct FragmentTimingTests {
    func u32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    func box(_ type: String, _ body: [UInt8]) -> [UInt8] { u32(UInt32(body.count + 8)) + Array(type.utf8) + body }

    /// A fragment of three samples of 512 ticks from decode time 10240, with signed composition
    /// offsets (trun version 1) as B-frames give: I at 0, P at +1024, B at -512.
    func fragment(track: UInt32 = 1, count: UInt32 = 3, offsets: [Int32] = [0, 1024, -512]) -> [UInt8] {
        let tfhd = box("tfhd", u32(0x020000) + u32(track))
        let tfdt = box("tfdt", [1, 0, 0, 0] + u32(0) + u32(10240))
        var run: [UInt8] = [1, 0, 0x09, 0x00] + u32(count)   // version 1, duration + composition offset
        for offset in offsets { run += u32(512) + u32(UInt32(bitPattern: offset)) }
        return box("moof", box("traf", tfhd + tfdt + box("trun", run))) + box("mdat", [0, 0, 0, 0])
    }

    @Test func earliestPresentationAndEndComeFromTfdtAndSignedOffsets() throws {
        let range = try #require(FragmentTiming.presentationRange(fragment(), trackID: 1))
        // Presented at 10240, 10752 + 1024 = 11776, 11264 - 512 = 10752; the last ends at 12288.
        #expect(range.start == 10240 && range.end == 12288)
        #expect(FragmentTiming.presentationRange(fragment(), trackID: 2) == nil)
    }

    @Test func hostileOrTruncatedBoxesGiveNothingAndReturnAtOnce() {
        let good = fragment()
        for cut in stride(from: 0, to: good.count, by: 7) {
            _ = FragmentTiming.presentationRange(Array(good.prefix(cut)), trackID: nil)
        }
        // A sample count far beyond what the box holds.
        #expect(FragmentTiming.presentationRange(fragment(count: 4_000_000_000), trackID: nil) == nil)
        // A box claiming to be larger than the data.
        #expect(FragmentTiming.presentationRange(u32(0xFFFF_FFF0) + Array("moof".utf8) + [0, 0], trackID: nil) == nil)
        #expect(FragmentTiming.presentationRange([], trackID: nil) == nil)
    }
}
