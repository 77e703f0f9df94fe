import Foundation
import KerfTestSupport
import KerfXML
import Testing
@testable import KerfValidate
import KerfTestTags

/// `--deep` reads the segments themselves.
@Suite(.tags(.integration)) struct DeepTests {
    /// The 10 s fixture packaged by kerf into `dir/pkg` in `formats` (2 s segments unless
    /// `defaultSegments`); its path.
    static func package(_ formats: String, in dir: URL, defaultSegments: Bool = false) throws -> String {
        let out = dir.appendingPathComponent("pkg").path
        let segments = defaultSegments ? [] : ["--segment-duration", "2"]
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--formats", formats] + segments).status == 0)
        return out
    }

    @Test func segmentStartingOnANonKeyframeIsNamed() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let playlist = dir.appendingPathComponent("cut.m3u8").path
        try Fixtures.writeMidGOPCut(to: playlist)
        let report = try await Validator(deep: true).validate(playlist)
        let named = report.findings.filter { $0.rule == "hls.segment-not-keyframe" }
        #expect(!named.isEmpty)
        #expect(named.allSatisfy { $0.message.hasSuffix(".ts does not start with a keyframe") && $0.line != nil })
        #expect(named.contains { $0.message.hasPrefix("cut1.ts ") })
        // Without --deep nothing is read.
        #expect(try await Validator().validate(playlist).findings.isEmpty)
    }

    @Test func understatedBandwidthReportsTheMeasuredPeak() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try Self.package("hls", in: dir, defaultSegments: true)
        let clean = try await Validator(deep: true).validate(out + "/master.m3u8")
        #expect(clean.findings.isEmpty, "\(clean.findings.map(\.message))")
        let master = out + "/master.m3u8"
        var text = try String(contentsOfFile: master, encoding: .utf8)
        let declared = text.components(separatedBy: "#EXT-X-STREAM-INF:BANDWIDTH=")[1].prefix { $0.isNumber }
        text = text.replacingOccurrences(of: "BANDWIDTH=\(declared),", with: "BANDWIDTH=100000,")
        try text.write(toFile: master, atomically: true, encoding: .utf8)
        let report = try await Validator(deep: true).validate(master)
        let finding = report.findings.first { $0.rule == "hls.bandwidth-understated" }
        #expect(finding?.severity == .error)
        // The measured peak is what Kerf had declared: video peak plus audio peak.
        #expect(finding?.message == "BANDWIDTH 100000 is below the measured peak segment bit rate \(declared) for video_360p/playlist.m3u8")
    }

    /// A package without program dates: `--deep` compares its renditions by the first segments'
    /// timestamps. Its audio playlist without its first segment starts a segment late.
    @Test func renditionsWithoutDatesAreComparedByTheirTimestamps() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try Self.package("hls", in: dir)
        let rules: (ValidationReport) -> [Finding] = { $0.findings.filter { $0.rule.hasPrefix("hls.renditions-") } }
        #expect(rules(try await Validator(deep: true).validate(out + "/master.m3u8")).isEmpty)
        let audio = out + "/audio_und_aac/playlist.m3u8"
        var lines = try String(contentsOfFile: audio, encoding: .utf8).components(separatedBy: "\n")
        let first = try #require(lines.firstIndex { $0.hasPrefix("#EXTINF:") })
        lines.removeSubrange(first...(first + 1))
        try lines.joined(separator: "\n").write(toFile: audio, atomically: true, encoding: .utf8)
        let late = rules(try await Validator(deep: true).validate(out + "/master.m3u8"))
        #expect(late.map(\.rule) == ["hls.renditions-misaligned"])
        #expect(late.first?.message.hasPrefix("audio_und_aac/playlist.m3u8 starts 2.005 s after video_360p/playlist.m3u8 (the first segments' timestamps)") == true,
                "\(late.map(\.message))")
        // Without --deep (and without dates) there is nothing to compare.
        #expect(rules(try await Validator().validate(out + "/master.m3u8")).isEmpty)
    }

    @Test func maxSegmentsSamplesEvenly() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let playlist = dir.appendingPathComponent("cut.m3u8").path
        try Fixtures.writeMidGOPCut(to: playlist)
        let all = try await Validator(deep: true).validate(playlist).findings.filter { $0.rule == "hls.segment-not-keyframe" }
        let sampled = try await Validator(deep: true, maxSegments: 2).validate(playlist).findings.filter { $0.rule == "hls.segment-not-keyframe" }
        #expect(sampled.count < all.count)
        #expect(sampled.allSatisfy { finding in all.contains { $0.message == finding.message } })
    }
}

/// `--deep` on DASH: the MPD's claims against the segments it addresses.
@Suite(.tags(.integration)) struct DASHDeepTests {
    @Test func mpdClaimsAreCheckedAgainstTheSegments() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-dash-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try DeepTests.package("dash", in: dir)
        let mpd = out + "/manifest.mpd"
        let clean = try await Validator(deep: true).validate(mpd)
        #expect(clean.findings.isEmpty, "\(clean.findings.map(\.message))")

        var text = try String(contentsOfFile: mpd, encoding: .utf8)
        let videoBandwidth = text.components(separatedBy: "bandwidth=\"")[1].prefix { $0.isNumber }
        text = text.replacingOccurrences(of: "bandwidth=\"\(videoBandwidth)\"", with: "bandwidth=\"1000\"")
        text = text.replacingOccurrences(of: "width=\"640\"", with: "width=\"1280\"")
        try text.write(toFile: mpd, atomically: true, encoding: .utf8)
        // Segment 3 of the video replaced by segment 4: a jump in time, and 4 then repeats.
        let video = out + "/video_360p"
        let names = try FileManager.default.contentsOfDirectory(atPath: video).filter { $0.hasSuffix(".m4s") }.sorted()
        let third = video + "/" + names.first { $0.contains("3") }!, fourth = video + "/" + names.first { $0.contains("4") }!
        try FileManager.default.removeItem(atPath: third)
        try FileManager.default.copyItem(atPath: fourth, toPath: third)
        // The audio loses segment 2.
        let audio = out + "/audio_und_aac"
        let audioSecond = try FileManager.default.contentsOfDirectory(atPath: audio).filter { $0.hasSuffix(".m4s") }.sorted()
            .first { $0.contains("2") }!
        try FileManager.default.removeItem(atPath: audio + "/" + audioSecond)

        let report = try await Validator(deep: true).validate(mpd)
        let rules = Set(report.findings.map(\.rule))
        #expect(rules == ["dash.bandwidth-understated", "dash.resolution-mismatch", "dash.timestamp-gap", "dash.segment-unreadable"],
                "\(report.findings.map(\.message))")
        #expect(report.findings.contains { $0.message.hasPrefix("@bandwidth 1000 of Representation video_360p is below the measured average bit rate ") })
        #expect(report.findings.contains { $0.message == "Representation video_360p declares 1280x360 but its segments are 640x360" })
        #expect(report.findings.contains { $0.rule == "dash.segment-unreadable" && $0.message.contains(audioSecond) && $0.message.hasSuffix("no such file") })
        #expect(report.findings.contains { $0.rule == "dash.timestamp-gap" && $0.message.hasPrefix("segment 3 of Representation video_360p") })
        // --max-segments 2 reads the first and the last only: the damage in between goes unseen.
        let sampled = try await Validator(deep: true, maxSegments: 2).validate(mpd)
        #expect(!sampled.findings.contains { $0.rule == "dash.timestamp-gap" || $0.rule == "dash.segment-unreadable" })
    }

    @Test func segmentAddressingIsResolved() throws {
        let mpd = try XMLReader.read(Array("""
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">
              <BaseURL>http://cdn.example/a/</BaseURL>
              <Period>
                <BaseURL>p1/</BaseURL>
                <AdaptationSet>
                  <SegmentTemplate timescale="1000" media="$RepresentationID$/s$Number%05d$-$Time$$$.m4s" initialization="$RepresentationID$/i.mp4" startNumber="7"/>
                  <Representation id="v" bandwidth="5">
                    <SegmentTemplate><SegmentTimeline><S t="0" d="4000" r="-1"/></SegmentTimeline></SegmentTemplate>
                  </Representation>
                  <Representation id="w" bandwidth="5"><BaseURL>/root/</BaseURL>
                    <SegmentTemplate duration="3000"/>
                  </Representation>
                </AdaptationSet>
              </Period>
            </MPD>
            """.utf8))
        let presentation = DASHPresentation(mpd, location: "http://other.example/m.mpd")
        let v = presentation.representations[0], w = presentation.representations[1]
        #expect(v.initialization == "http://cdn.example/a/p1/v/i.mp4")
        #expect(v.segments.map(v.url(of:)) == ["http://cdn.example/a/p1/v/s00007-0$.m4s", "http://cdn.example/a/p1/v/s00008-4000$.m4s",
                                          "http://cdn.example/a/p1/v/s00009-8000$.m4s"])
        #expect(v.segments.map(\.duration) == [4000, 4000, 4000])
        #expect(w.addressing == .duration)
        #expect(w.segments.count == 4)  // 10 s in nominal 3 s segments
        #expect(w.segments.last.map(w.url(of:)) == "http://cdn.example/root/w/s00010-9000$.m4s")
        #expect(DASHPresentation.expand("$$x$Bandwidth$$Unknown$", id: "r", number: 1, time: 2, bandwidth: 300) == "$x300$Unknown$")
    }
}
