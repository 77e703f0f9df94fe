import Foundation
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// HLS Content Steering: the initial PATHWAY-ID, and with --deep the steering manifest itself.
@Suite(.tags(.integration)) struct SteeringTests {
    func presentation(manifest: String, initial: String = "CDN-A") throws -> (URL, String) {
        let dir = try Fixtures.temporaryDirectory("kerf-steering")
        try """
            #EXTM3U
            #EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="\(initial)"
            #EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="mp4a.40.2",PATHWAY-ID="CDN-A"
            a/media.m3u8
            #EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="mp4a.40.2",PATHWAY-ID="CDN-B"
            b/media.m3u8
            """.write(to: dir.appendingPathComponent("master.m3u8"), atomically: true, encoding: .utf8)
        for pathway in ["a", "b"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(pathway), withIntermediateDirectories: true)
            try "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-ENDLIST\n"
                .write(to: dir.appendingPathComponent("\(pathway)/media.m3u8"), atomically: true, encoding: .utf8)
        }
        try manifest.write(to: dir.appendingPathComponent("steering.json"), atomically: true, encoding: .utf8)
        return (dir, dir.appendingPathComponent("master.m3u8").path)
    }

    @Test func aGoodSteeringManifestPasses() async throws {
        let (dir, master) = try presentation(manifest: #"{"VERSION":1,"TTL":300,"RELOAD-URI":"steering.json","PATHWAY-PRIORITY":["CDN-B","CDN-A"]}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try await Validator(deep: true).validate(master)
        #expect(report.findings.filter { $0.rule.hasPrefix("hls.steering") }.isEmpty, "\(report.findings.map(\.message))")
    }

    @Test func aBrokenSteeringManifestAndAnUnknownPathwayAreFound() async throws {
        let (dir, master) = try presentation(manifest: #"{"VERSION":2,"PATHWAY-PRIORITY":["CDN-X"]}"#, initial: "CDN-C")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shallow = try await Validator().validate(master)
        #expect(shallow.findings.map(\.rule) == ["hls.steering-pathway"])
        let deep = try await Validator(deep: true).validate(master).findings.filter { $0.rule == "hls.steering-manifest" }.map(\.message)
        #expect(deep == ["steering manifest steering.json: VERSION is 2, not 1",
                         "steering manifest steering.json: TTL is missing, not a positive number of seconds",
                         "steering manifest steering.json: PATHWAY-PRIORITY (CDN-X) names no Pathway of the variants"])
        try "not json".write(to: dir.appendingPathComponent("steering.json"), atomically: true, encoding: .utf8)
        let unreadable = try await Validator(deep: true).validate(master).findings.filter { $0.rule == "hls.steering-manifest" }
        #expect(unreadable.count == 1 && unreadable[0].message.hasPrefix("the steering manifest steering.json cannot be read as one: "))
    }
}
