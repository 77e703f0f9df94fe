import Foundation
import Testing
import KerfCore
import KerfTestSupport
@testable import KerfTranscode
import KerfTestTags

@Suite(.tags(.unit)) struct LadderTests {
    @Test func parsesCommandLineLadder() throws {
        let ladder = try Ladder.parse("1080p:5000k,720p:3000k:4000k,640x360:1.2M")
        #expect(ladder.rungs.map(\.height) == [1080, 720, 360])
        #expect(ladder.rungs.map(\.bitRate) == [5_000_000, 3_000_000, 1_200_000])
        #expect(ladder.rungs.map(\.maxRate) == [nil, 4_000_000, nil])
        #expect(ladder.rungs.map(\.width) == [nil, nil, 640])
        #expect(ladder.rungs.allSatisfy { $0.codec == "h264" })
    }

    @Test(arguments: [
        ("720p", "must be resolution:bitrate"),
        ("720:3000k", "must be <height>p or <width>x<height>"),
        ("720p:fast", "must be a number of bits per second"),
        ("720p:3000k:1000k", "maxrate must be at least the bitrate"),
        ("99999p:3000k", "out of range"),
        ("720p:10", "out of range"),
        (",", "empty"),
    ])
    func rejectsBadLadders(spec: String, message: String) {
        #expect {
            _ = try Ladder.parse(spec)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func loadsYAMLAndJSONFiles() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-ladder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("ladder.yaml")
        try """
        rungs:
          - resolution: 1280x720
            bitrate: 3000k
            maxrate: 3600k
            bufsize: 6M
            profile: high
            preset: fast
          - resolution: 480p
            bitrate: 1200k
            codec: hevc
        """.write(to: yaml, atomically: true, encoding: .utf8)
        let fromYAML = try Ladder.parse(yaml.path)
        #expect(fromYAML.rungs == [
            Ladder.Rung(height: 720, width: 1280, bitRate: 3_000_000, maxRate: 3_600_000, bufferSize: 6_000_000,
                        profile: "high", preset: "fast"),
            Ladder.Rung(height: 480, bitRate: 1_200_000, codec: "hevc"),
        ])
        let json = dir.appendingPathComponent("ladder.json")
        try #"[{"resolution": "360p", "bitrate": "800k"}]"#.write(to: json, atomically: true, encoding: .utf8)
        #expect(try Ladder.parse(json.path).rungs == [Ladder.Rung(height: 360, bitRate: 800_000)])
        let bad = dir.appendingPathComponent("bad.yaml")
        try "- resolution: 360p\n  bitrate: 800k\n  speed: max\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect(throws: TranscodeError.self) { try Ladder.parse(bad.path) }
    }

    @Test func neverUpscalesAndKeepsTheDisplayAspectRatioWithEvenSizes() throws {
        let ladder = try Ladder.parse("1080p:5000k,720p:3000k,480p:1200k")
        // A 1280x720 source: the 1080p rung would upscale.
        let (rungs, skipped) = ladder.resolved(sourceWidth: 1280, sourceHeight: 720)
        #expect(rungs.map { "\($0.width)x\($0.height)" } == ["1280x720", "854x480"])
        #expect(skipped.count == 1 && skipped[0].contains("1080p"))
        #expect(rungs.allSatisfy { $0.width % 2 == 0 && $0.height % 2 == 0 })
        #expect(rungs[0].maxRate == 3_600_000 && rungs[0].bufferSize == 6_000_000 && rungs[0].preset == "veryfast")
        // Anamorphic PAL (720x576, pixels 16:15 wide → 4:3 display): square-pixel output.
        let (pal, _) = try Ladder.parse("480p:1200k,240p:400k").resolved(sourceWidth: 720, sourceHeight: 576,
                                                                         sampleAspectRatio: Rational(16, 15))
        #expect(pal.map { "\($0.width)x\($0.height)" } == ["640x480", "320x240"])
        // Every rung too large: one rendition at the source's size.
        let (small, _) = ladder.resolved(sourceWidth: 320, sourceHeight: 180)
        #expect(small.map { "\($0.width)x\($0.height)" } == ["320x180"])
        #expect(small[0].bitRate == 1_200_000)
    }

    @Test func defaultLadderFollowsTheAuthoringTableBelowTheSource() {
        #expect(Ladder.defaultLadder(sourceWidth: 1920, sourceHeight: 1080).rungs.map(\.height) == [1080, 720, 540, 360])
        #expect(Ladder.defaultLadder(sourceWidth: 640, sourceHeight: 360).rungs.map(\.height) == [360, 234])
        // A source between table rows gets a top rung at its own height.
        let between = Ladder.defaultLadder(sourceWidth: 1600, sourceHeight: 900).rungs
        #expect(between.map(\.height) == [900, 720, 540, 360])
        #expect(between[0].bitRate > 3_000_000 && between[0].bitRate < 6_000_000)
        // Within 10% of a table row: that row is the top.
        #expect(Ladder.defaultLadder(sourceWidth: 1024, sourceHeight: 576).rungs.map(\.height) == [540, 360, 234])
        #expect(Ladder.defaultLadder(sourceWidth: 320, sourceHeight: 180).rungs.map(\.height) == [180])
    }

    @Test func threadsFollowEachRungsShareOfThePixels() throws {
        let (rungs, _) = try Ladder.parse("1080p:5000k,720p:3000k,480p:1200k").resolved(sourceWidth: 1920, sourceHeight: 1080)
        // 1.5 threads per core, shared by pixels: the top rung gets most, every rung at least one.
        #expect(VideoLadder.threadShares(rungs, cores: 2) == [2, 1, 1])
        #expect(VideoLadder.threadShares(rungs, cores: 16) == [15, 6, 3])
        #expect(VideoLadder.threadShares(rungs, cores: 0) == [1, 1, 1])
        // The decoder gets a quarter of the cores, at least one.
        #expect(VideoLadder.decoderThreads(cores: 1) == 1)
        #expect(VideoLadder.decoderThreads(cores: 2) == 1)
        #expect(VideoLadder.decoderThreads(cores: 16) == 4)
    }
}
