import Foundation
import KerfCore
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// `emsg` boxes built here by hand (ISO/IEC 23009-1 §5.10.3.3 layouts) put in Kerf's DASH
/// segments, read by `--deep`.
@Suite(.tags(.integration)) struct EventMessageTests {
    static func box(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let size = UInt32(8 + body.count)
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array(type.utf8) + body
    }

    static func u32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    /// An emsg of version 1 (times absolute) or 0 (a delta).
    static func emsg(version: UInt8, scheme: String, data: [UInt8]) -> [UInt8] {
        let strings = Array(scheme.utf8) + [0] + [0]
        let times = u32(90000) + (version == 1 ? u32(0) + u32(180_000) : u32(0)) + u32(0xFFFF_FFFF) + u32(7)
        return box("emsg", [version, 0, 0, 0] + (version == 1 ? times + strings : strings + times) + data)
    }

    /// A splice_insert out of network with a 30 s break, as Kerf writes it.
    static let section = SpliceInfoSection(command: .insert(SpliceInsert(eventID: 7, spliceTime: 180_000,
                                                                        breakDuration: BreakDuration(autoReturn: true, duration: 2_700_000))))
        .encoded()

    @Test func boxesAreRead() {
        let moof = Self.box("moof", [])
        let good = Self.emsg(version: 1, scheme: EventMessages.scte35Scheme, data: Self.section) + moof
        #expect(EventMessages.problems(good, signalled: [EventMessages.scte35Scheme]).isEmpty)
        #expect(EventMessages.parse(good, 8..<(good.count - 8))?.data.elementsEqual(Self.section) == true)
        let id3 = Self.emsg(version: 1, scheme: EventMessages.id3Scheme, data: Array("ID3".utf8) + [4, 0, 0, 0, 0, 0, 0]) + moof
        #expect(EventMessages.problems(id3, signalled: [EventMessages.id3Scheme]).isEmpty)
        var broken = Self.section
        broken[broken.count - 1] ^= 0xFF
        let cases: [([UInt8], [String])] = [
            (Self.emsg(version: 1, scheme: EventMessages.scte35Scheme, data: broken) + moof, ["dash.emsg-payload"]),
            (Self.emsg(version: 0, scheme: EventMessages.id3Scheme, data: Array("ID3".utf8)) + moof, ["dash.emsg-payload"]),
            (moof + Self.emsg(version: 1, scheme: EventMessages.scte35Scheme, data: Self.section), ["dash.emsg-placement"]),
            (Self.emsg(version: 1, scheme: "urn:example:other", data: []) + moof, ["dash.emsg-scheme"]),
            (Self.box("emsg", [2, 0, 0, 0]) + moof, ["dash.emsg-syntax"]),
            (Self.box("emsg", [1, 0, 0, 0, 1, 2]) + moof, ["dash.emsg-syntax"]),
        ]
        for (bytes, rules) in cases {
            let found = EventMessages.problems(bytes, signalled: [EventMessages.scte35Scheme, EventMessages.id3Scheme]).map(\.rule)
            #expect(found == rules)
        }
    }

    @Test func deepValidationReadsTheSegmentsEvents() async throws {
        let dir = try Fixtures.temporaryDirectory("kerf-emsg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let packaged = try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--formats", "dash",
                                                       "--segment-duration", "2"])
        try #require(packaged.status == 0, "\(packaged.stderr)")
        // SCTE-35 signalled in the video AdaptationSet; its second segment gets a good event, the
        // third one whose section is damaged and one of a scheme nobody signalled.
        let mpd = out + "/manifest.mpd"
        let text = try String(contentsOfFile: mpd, encoding: .utf8)
        let signalled = text.replacingOccurrences(of: "<Representation id=\"video_360p\"",
                                  with: "<InbandEventStream schemeIdUri=\"\(EventMessages.scte35Scheme)\"/>\n      <Representation id=\"video_360p\"")
        #expect(signalled != text)
        try signalled.write(toFile: mpd, atomically: true, encoding: .utf8)
        let clean = try await Validator(deep: true).validate(mpd)
        #expect(clean.findings.filter { $0.severity == .error }.isEmpty, "\(clean.findings.map(\.message))")

        func prepend(_ box: [UInt8], to name: String) throws {
            // After the segment's styp, before its moof.
            let path = out + "/video_360p/" + name
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let stypSize = Int(ISOBoxes.read32(bytes, 0))
            try Data(Array(bytes[..<stypSize]) + box + Array(bytes[stypSize...])).write(to: URL(fileURLWithPath: path))
        }
        try prepend(Self.emsg(version: 1, scheme: EventMessages.scte35Scheme, data: Self.section), to: "seg_2.m4s")
        #expect(try await Validator(deep: true).validate(mpd).findings.filter { $0.rule.hasPrefix("dash.emsg") }.isEmpty)
        var broken = Self.section
        broken[4] ^= 0x01
        try prepend(Self.emsg(version: 1, scheme: EventMessages.scte35Scheme, data: broken), to: "seg_3.m4s")
        try prepend(Self.emsg(version: 1, scheme: "urn:example:other", data: []), to: "seg_3.m4s")
        let found = try await Validator(deep: true).validate(mpd).findings.filter { $0.rule.hasPrefix("dash.emsg") }
        #expect(Set(found.map(\.rule)) == ["dash.emsg-payload", "dash.emsg-scheme"], "\(found.map(\.message))")
        #expect(found.allSatisfy { $0.message.hasPrefix("segment 3 of Representation video_360p") })
    }
}
