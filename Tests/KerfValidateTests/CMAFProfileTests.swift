import Foundation
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// `--deep` under the CMAF profile: Kerf's CMAF segments pass; ffmpeg's DASH segments, whose
/// ftyp carries no CMAF brand, are not CMAF headers when an MPD claims they are.
@Suite(.tags(.integration)) struct CMAFProfileTests {
    /// The MPD at `path` claiming the CMAF profile (besides what it claims).
    func claimCMAF(_ path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let claimed = text.replacingOccurrences(of: "profiles=\"", with: "profiles=\"\(CMAFStructure.profile),")
        #expect(claimed != text)
        try claimed.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func cmafHeadersAndFragmentsAreChecked() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cmaf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let kerf = dir.appendingPathComponent("kerf").path
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", kerf, "--formats", "dash"]).status == 0)
        try claimCMAF(kerf + "/manifest.mpd")
        let clean = try await Validator(deep: true).validate(kerf + "/manifest.mpd")
        #expect(clean.findings.filter { $0.rule.hasPrefix("dash.cmaf") }.isEmpty, "\(clean.findings.map(\.message))")

        let ffmpeg = dir.appendingPathComponent("ff").path
        try FileManager.default.createDirectory(atPath: ffmpeg, withIntermediateDirectories: true)
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("h264_aac_10s.mp4"), "-c", "copy", "-f", "dash",
                                           ffmpeg + "/out.mpd"]).status == 0)
        let unclaimed = try await Validator(deep: true).validate(ffmpeg + "/out.mpd")
        #expect(unclaimed.findings.filter { $0.rule.hasPrefix("dash.cmaf") }.isEmpty)
        try claimCMAF(ffmpeg + "/out.mpd")
        let claimed = try await Validator(deep: true).validate(ffmpeg + "/out.mpd").findings.filter { $0.rule.hasPrefix("dash.cmaf") }
        #expect(claimed.map(\.rule) == ["dash.cmaf-header", "dash.cmaf-header"], "\(claimed.map(\.message))")
        #expect(claimed.allSatisfy { $0.message.hasSuffix("its ftyp brands (iso5, iso5, iso6, mp41) include neither cmfc nor cmf2") })
    }

    @Test func fragmentsWithTwoTracksOrNoTfdtAreNamed() {
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let size = UInt32(8 + body.count)
            return [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array(type.utf8) + body
        }
        let tfdt = box("tfdt", [UInt8](repeating: 0, count: 8))
        let good = box("moof", box("mfhd", [UInt8](repeating: 0, count: 8)) + box("traf", tfdt)) + box("mdat", [])
        #expect(CMAFStructure.fragmentProblems(good).isEmpty)
        let twoTracks = box("moof", box("traf", tfdt) + box("traf", tfdt))
        #expect(CMAFStructure.fragmentProblems(twoTracks) == ["moof 1 holds 2 traf boxes, a CMAF fragment one track"])
        let noTfdt = good + box("moof", box("traf", box("tfhd", [UInt8](repeating: 0, count: 8))))
        #expect(CMAFStructure.fragmentProblems(noTfdt) == ["the traf of moof 2 has no tfdt"])
    }
}
