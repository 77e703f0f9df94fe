import Testing
@testable import KerfPackager
import KerfTestTags

/// FFmpeg 5.1 hands timed ID3 tags of MPEG-TS inputs over without their first 5 bytes ("ID3"
/// and the version); `ID3Tag.repaired` puts them back only where the rest is a tag's.
@Suite(.tags(.unit)) struct ID3TagTests {
    static func tag(version: UInt8, text: String) -> [UInt8] {
        func size(_ n: Int) -> [UInt8] {
            version == 4 ? [UInt8((n >> 21) & 0x7F), UInt8((n >> 14) & 0x7F), UInt8((n >> 7) & 0x7F), UInt8(n & 0x7F)]
                : [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        }
        let body: [UInt8] = [3] + Array("kerf".utf8) + [0] + Array(text.utf8)
        let frame = Array("TXXX".utf8) + size(body.count) + [0, 0] + body
        let total = frame.count
        return Array("ID3".utf8) + [version, 0, 0] + [UInt8((total >> 21) & 0x7F), UInt8((total >> 14) & 0x7F),
                                                       UInt8((total >> 7) & 0x7F), UInt8(total & 0x7F)] + frame
    }

    @Test func wholeTagsPassAndCutOnesAreRepaired() {
        for version: UInt8 in [3, 4] {
            let whole = Self.tag(version: version, text: "a value long enough to need more than one byte of size: " + String(repeating: "x", count: 200))
            #expect(ID3Tag.repaired(whole) == whole)
            #expect(ID3Tag.repaired(Array(whole.dropFirst(5))) == whole, "version \(version)")
        }
    }

    @Test func paddingFooterAndHeaderFlagsAreTags() {
        let whole = Self.tag(version: 4, text: "x")
        // Three bytes of padding, counted in the size.
        var padded = whole + [0, 0, 0]
        padded[9] += 3
        #expect(ID3Tag.repaired(padded) == padded)
        #expect(ID3Tag.repaired(Array(padded.dropFirst(5))) == padded)
        // A v2.4 footer ("3DI" and the header's fields) is not counted in the size.
        var footed = whole
        footed[5] = 0x10
        footed += Array("3DI".utf8) + Array(footed[3..<10])
        #expect(ID3Tag.isTag(footed))
        // An extended header: only the sizes are checked.
        var extended = whole
        extended[5] = 0x40
        #expect(ID3Tag.isTag(extended))
    }

    @Test func otherBytesAreNotTags() {
        #expect(ID3Tag.repaired([]) == nil)
        #expect(ID3Tag.repaired(Array("hello, world".utf8)) == nil)
        var wrongSize = Self.tag(version: 4, text: "x")
        wrongSize[9] += 1
        #expect(ID3Tag.repaired(wrongSize) == nil)
        #expect(ID3Tag.repaired(Array(wrongSize.dropFirst(5))) == nil)
        // A frame longer than the tag.
        var badFrame = Self.tag(version: 4, text: "x")
        badFrame[17] = 0x7F
        #expect(ID3Tag.repaired(badFrame) == nil)
    }
}
