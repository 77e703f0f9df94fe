import Testing
import KerfCore
@testable import KerfTranscode

@Suite struct LadderTests {
    @Test func parsesCommandLineLadder() throws {
        let ladder = try Ladder.parse("1080p:5000k,720p:3000k:4000k,640x360:1.2M")
        #expect(ladder.rungs.map(\.height) == [1080, 720, 360])
        #expect(ladder.rungs.map(\.bitRate) == [5_000_000, 3_000_000, 1_200_000])
        #expect(ladder.rungs[1].maxRate == 4_000_000)
        #expect(ladder.rungs[2].width == 640)
    }
}
