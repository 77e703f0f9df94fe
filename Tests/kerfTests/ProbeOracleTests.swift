import Foundation
import KerfTestSupport
import Testing
import KerfTestTags

/// `kerf probe --json` against ffprobe, the oracle.
@Suite(.tags(.integration)) struct ProbeOracleTests {
    func kerfProbe(_ path: String) throws -> [String: Any] {
        let result = try Command.run(Fixtures.kerf, ["probe", "--json", path])
        #expect(result.status == 0, "kerf probe failed: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        return try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] ?? [:]
    }

    static func ratio(_ text: String?) -> Double? {
        guard let parts = text?.split(separator: "/"), parts.count == 2,
              let n = Double(parts[0]), let d = Double(parts[1]), d != 0 else { return nil }
        return n / d
    }

    @Test(arguments: Fixtures.media)
    func agreesWithFFprobe(name: String) throws {
        let path = Fixtures.path(name)
        let ours = try kerfProbe(path)
        let oracle = try Command.ffprobe(["-show_streams", "-show_format", path])
        let ourStreams = ours["streams"] as? [[String: Any]] ?? []
        let theirStreams = oracle["streams"] as? [[String: Any]] ?? []
        #expect(ourStreams.count == theirStreams.count)
        #expect(!ourStreams.isEmpty)

        var frameDuration = 0.0
        for (mine, theirs) in zip(ourStreams, theirStreams) {
            let label = "\(name) stream \(mine["index"] ?? "?")"
            #expect(mine["codec"] as? String == theirs["codec_name"] as? String, "\(label) codec")
            #expect(mine["type"] as? String == theirs["codec_type"] as? String, "\(label) type")
            #expect(mine["width"] as? Int == theirs["width"] as? Int, "\(label) width")
            #expect(mine["height"] as? Int == theirs["height"] as? Int, "\(label) height")
            #expect(mine["channels"] as? Int == theirs["channels"] as? Int, "\(label) channels")
            #expect(mine["sampleRate"] as? Int == (theirs["sample_rate"] as? String).flatMap { Int($0) }, "\(label) rate")
            if mine["type"] as? String == "video" {
                let theirRate = Self.ratio(theirs["avg_frame_rate"] as? String) ?? Self.ratio(theirs["r_frame_rate"] as? String)
                let ourRate = mine["frameRateValue"] as? Double
                #expect(ourRate != nil && theirRate != nil && abs(ourRate! - theirRate!) < 0.001,
                        "\(label) frame rate \(String(describing: ourRate)) vs \(String(describing: theirRate))")
                if let rate = ourRate { frameDuration = max(frameDuration, 1 / rate) }
                #expect(mine["pixelFormat"] as? String == theirs["pix_fmt"] as? String, "\(label) pixel format")
            }
            if mine["type"] as? String == "audio", let rate = mine["sampleRate"] as? Int {
                frameDuration = max(frameDuration, 1024.0 / Double(rate))
            }
        }
        let ourDuration = (ours["container"] as? [String: Any])?["duration"] as? Double
        let theirDuration = ((oracle["format"] as? [String: Any])?["duration"] as? String).flatMap(Double.init)
        #expect(ourDuration != nil && theirDuration != nil)
        if let ourDuration, let theirDuration {
            #expect(abs(ourDuration - theirDuration) <= frameDuration, "\(name) duration \(ourDuration) vs \(theirDuration)")
        }
    }

    @Test func verdictsMatchWhatEachFixtureIs() throws {
        func verdict(_ name: String) throws -> (Bool, [String]) {
            let copy = try kerfProbe(Fixtures.path(name))["streamCopy"] as? [String: Any] ?? [:]
            let codes = (copy["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
            return (copy["possible"] as? Bool ?? false, codes)
        }
        #expect(try verdict("h264_aac_10s.mp4") == (true, []))
        #expect(try verdict("hevc_aac.mp4") == (true, []))
        #expect(try verdict("mpeg2_mp2.ts") == (false, ["codec-not-allowed", "codec-not-allowed"]))
        #expect(try verdict("h264_irregular_gop.mp4") == (true, ["irregular-keyframes"]))
        // A 2 s target is shorter than the 2.76 s longest GOP of the irregular fixture.
        let short = try Command.run(Fixtures.kerf, ["probe", "--json", "--segment-duration", "2",
                                                    Fixtures.path("h264_irregular_gop.mp4")])
        let json = try JSONSerialization.jsonObject(with: short.stdoutData) as? [String: Any]
        let copy = json?["streamCopy"] as? [String: Any]
        #expect(copy?["possible"] as? Bool == false)
    }

    @Test func gopStatisticsOfTheRegularFixture() throws {
        let streams = try kerfProbe(Fixtures.path("h264_aac_10s.mp4"))["streams"] as? [[String: Any]] ?? []
        let gop = streams.first?["gop"] as? [String: Any]
        #expect(gop?["keyframes"] as? Int == 5)
        #expect(gop?["minInterval"] as? Double == 2)
        #expect(gop?["maxInterval"] as? Double == 2)
        #expect(gop?["regular"] as? Bool == true)
        #expect(streams.first?["codecString"] as? String == "avc1.64001e")
        #expect(streams.first?["packets"] as? Int == 250)
    }

    @Test func textOutputNamesStreamsAndVerdict() throws {
        let result = try Command.run(Fixtures.kerf, ["probe", Fixtures.path("mpeg2_mp2.ts")])
        #expect(result.status == 0)
        #expect(result.stdout.contains("#0 video: mpeg2video"))
        #expect(result.stdout.contains("can be packaged by stream copy for HLS/DASH (6.000 s segments): no"))
        #expect(result.stdout.contains("reason: #1 audio codec mp2 is not allowed"))
    }
}

@Suite(.tags(.integration)) struct ProbeErrorTests {
    @Test(arguments: Fixtures.broken)
    func brokenInputExitsTwoWithOneLine(name: String) throws {
        let path = Fixtures.path(name)
        let result = try Command.run(Fixtures.kerf, ["probe", path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(lines.first?.hasPrefix("kerf: \(path): ") == true)
        #expect(result.stderr.contains("Invalid data found when processing input"))
    }

    @Test func missingFileAndUsageErrorsExitTwo() throws {
        let missing = try Command.run(Fixtures.kerf, ["probe", "/nonexistent/file.mp4"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "kerf: /nonexistent/file.mp4: cannot open: avformat_open_input: No such file or directory\n")
        let usage = try Command.run(Fixtures.kerf, ["probe"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("missing input (or --encoders)"))
        let badOption = try Command.run(Fixtures.kerf, ["probe", "--segment-duration", "-1", "x.mp4"])
        #expect(badOption.status == 2)
    }
}
