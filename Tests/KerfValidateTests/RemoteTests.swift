import Foundation
import KerfCore
import KerfTestSupport
import Testing
@testable import KerfValidate
import KerfTestTags

/// Validation over HTTP: a real server (Python's http.server) in front of real packages.
@Suite(.serialized, .tags(.integration)) struct RemoteTests {
    /// A Kerf package and an ffmpeg HLS output under one served folder.
    static func servedPackages() throws -> (dir: URL, server: FixtureHTTPServer) {
        let dir = try Fixtures.temporaryDirectory("kerf-remote")
        let out = dir.appendingPathComponent("pkg").path
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", out,
                                                "--formats", "hls,dash", "--segment-duration", "2"]).status == 0)
        let cut = dir.appendingPathComponent("cut").path
        try FileManager.default.createDirectory(atPath: cut, withIntermediateDirectories: true)
        try Fixtures.writeMidGOPCut(to: cut + "/cut.m3u8")
        return (dir, try FixtureHTTPServer(root: dir.path))
    }

    @Test func remotePresentationsValidateLikeLocalOnes() async throws {
        let (dir, server) = try Self.servedPackages()
        defer { server.server.stop(); try? FileManager.default.removeItem(at: dir) }
        let hls = try await Validator(deep: true).validate(server.base + "/pkg/master.m3u8")
        #expect(hls.errors == 0, "\(hls.findings.map(\.message))")
        #expect(hls.documents.contains(server.base + "/pkg/video_360p/playlist.m3u8"))
        var deepSchema = Validator(schemaPath: Fixtures.dashSchema, deep: true)
        deepSchema.timeout = 10
        let dash = try await deepSchema.validate(server.base + "/pkg/manifest.mpd")
        #expect(dash.format == "dash")
        #expect(dash.errors == 0, "\(dash.findings.map(\.message))")

        // Deep mode fetched the segments: the mid-GOP cuts are named.
        let cut = try await Validator(deep: true).validate(server.base + "/cut/cut.m3u8")
        #expect(cut.findings.contains { $0.rule == "hls.segment-not-keyframe" && $0.message.hasPrefix("cut1.ts ") })

        // A redirect: children resolve against the final URL (/pkg/...), not the one asked for (/moved/pkg/...).
        let moved = try await Validator().validate(server.base + "/moved/pkg/master.m3u8")
        #expect(moved.errors == 0, "\(moved.findings.map(\.message))")
        #expect(moved.documents.contains(server.base + "/pkg/audio_und_aac/playlist.m3u8"))
    }

    @Test func httpErrorsAreFindingsOrInputErrors() async throws {
        let (dir, server) = try Self.servedPackages()
        defer { server.server.stop(); try? FileManager.default.removeItem(at: dir) }
        // A variant playlist that answers 404 is a finding with the status code.
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("pkg/video_360p/playlist.m3u8").path)
        let report = try await Validator().validate(server.base + "/pkg/master.m3u8")
        let missing = report.findings.first { $0.rule == "hls.uri-resolves" }
        #expect(missing?.severity == .error)
        #expect(missing?.message == "video_360p/playlist.m3u8 cannot be read: HTTP 404 Not Found")
        // A missing segment under --deep too.
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("cut/cut2.ts").path)
        let deep = try await Validator(deep: true).validate(server.base + "/cut/cut.m3u8")
        #expect(deep.findings.contains { $0.rule == "hls.segment-unreadable" && $0.message.contains("cut2.ts") && $0.message.contains("HTTP 404") })

        // The input itself: exit-2 errors with a one-line reason.
        func inputError(_ url: String, timeout: Int64 = 10, maxBytes: Int? = nil) async -> String? {
            var validator = Validator()
            validator.timeout = timeout
            if let maxBytes { validator.maxBytes = maxBytes }
            do { _ = try await validator.validate(url) } catch let error as ValidationError {
                return error.oneLine
            } catch { return "\(error)" }
            return nil
        }
        #expect(await inputError(server.base + "/status/500") == "\(server.base)/status/500: cannot read: HTTP 500 Internal Server Error")
        #expect(await inputError(server.base + "/status/403") == "\(server.base)/status/403: cannot read: HTTP 403 Forbidden")
        #expect(await inputError(server.base + "/loop")?.hasSuffix("cannot read: redirect loop") == true)
        #expect(await inputError(server.base + "/slow", timeout: 1)?.hasSuffix("cannot read: no data for too long (read timeout)") == true)
        #expect(await inputError(server.base + "/endless.m3u8", maxBytes: 1 << 20)?.hasSuffix("cannot read: the body is over the 1048576-byte limit") == true)
        // A refused connection is retried until the timeout.
        #expect(await inputError("http://127.0.0.1:1/x.m3u8", timeout: 1) == "http://127.0.0.1:1/x.m3u8: cannot read: cannot connect: connection refused")
        #expect(await inputError(server.base + "/") == "\(server.base)/: an HTML page, not an HLS playlist or a DASH MPD")
    }

    @Test func relativeReferencesResolveLikeRFC3986() {
        let base = "http://h:8080/x/y/master.m3u8?token=1"
        #expect(ResourceLoader.resolve("../a/b.m3u8", against: base) == "http://h:8080/x/a/b.m3u8")
        #expect(ResourceLoader.resolve("v/1.m4s", against: base) == "http://h:8080/x/y/v/1.m4s")
        #expect(ResourceLoader.resolve("/abs/p.m3u8", against: base) == "http://h:8080/abs/p.m3u8")
        #expect(ResourceLoader.resolve("https://o/z", against: base) == "https://o/z")
        #expect(ResourceLoader.resolve("v/1.m4s", against: "pkg/master.m3u8") == "pkg/v/1.m4s")
        #expect(ResourceLoader.resolve("v/1.m4s", against: "master.m3u8") == "v/1.m4s")
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(UTCTime.parseHTTPDate("Tue, 24 Nov 2026 00:00:00 GMT") == 1_795_478_400)
        #expect(UTCTime.parseXSDateTime("2026-11-24T00:00:00Z") == 1_795_478_400)
        #expect(UTCTime.parseXSDateTime("2026-11-24T01:00:00.5+01:00") == 1_795_478_400.5)
        #expect(UTCTime.parseXSDateTime("2024-02-29T12:00:00") == 1_709_208_000)
        #expect(UTCTime.parseXSDateTime("2026-13-01T00:00:00Z") == nil)
        #expect(XSTime.duration("PT1H2M3.5S") == 3723.5)
        #expect(XSTime.duration("P1DT1S") == 86_401)
        #expect(XSTime.duration("PT") == nil)
        #expect(XSTime.duration("P1Y") == nil)
        #expect(XSTime.duration("PT1S2") == nil)
    }
}
