import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// Kerf's Common Encryption DASH packages in a real browser: headless Chromium (Debian's
/// `chromium`) plays them through Media Source Extensions and Encrypted Media Extensions with the
/// W3C Clear Key system (`Tests/Browser/clearkey.html`, which answers the license request itself).
/// Each test plays, in one page and to the end (at 4× speed), the clear package (the control: this
/// Chromium decodes H.264 and AAC from CMAF), the protected package with its key, and its video and
/// its audio with a wrong key for the same key ID. Chromium blanks canvas copies of any video with
/// MediaKeys, so the pictures themselves are compared by `EncryptionTests` (ffmpeg), not here.
@Suite(.tags(.integration)) struct ChromiumClearKeyTests {
    static let keyID = "00112233445566778899aabbccddeeff"
    static let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let wrongKey = "ffeeddccbbaa99887766554433221100"

    /// What the page POSTs back (see `Tests/Browser/clearkey.js`).
    struct Report: Decodable {
        struct Result: Decodable {
            struct MediaError: Decodable { var code: Int; var message: String }
            var name: String
            var outcome: String
            var error: String?
            var currentTime: Double?
            var frames: Int?
            var droppedFrames: Int?
            var mediaError: MediaError?
            var requestedKeyIDs: [String]?
            var keyStatuses: [String: String]?
        }
        var results: [Result]
        var log: [String]

        func result(_ name: String) throws -> Result {
            try #require(results.first { $0.name == name }, "the page reported no result for \(name): \(results.map(\.name))")
        }
    }

    /// `kerf package --json`'s renditions, as far as the page needs them.
    struct Summary: Decodable {
        struct Rendition: Decodable { var type: String; var codecs: String?; var files: [String] }
        var renditions: [Rendition]
    }

    /// The ladder's 360p rung and its audio (10 s, 250 frames).
    static let fixture = Fixtures.path("ladder_360p.mp4"), audio = Fixtures.path("ladder_audio.m4a")

    /// Packages the ladder's 360p rung and audio as DASH into `site/<name>` and returns its video and audio
    /// Representations as the page's tracks (type, MIME type with codecs, init and segment URLs
    /// from the `--json` summary).
    func package(_ name: String, _ options: [String], in site: URL) throws -> [[String: Any]] {
        let result = try Command.run(Fixtures.kerf, ["package", Self.fixture, Self.audio, "-o", site.appendingPathComponent(name).path,
                                                     "--formats", "dash", "--segment-duration", "2", "--json"] + options)
        try #require(result.status == 0, "kerf package \(options) failed: \(result.stderr)")
        let summary = try JSONDecoder().decode(Summary.self, from: result.stdoutData)
        let tracks: [[String: Any]] = try summary.renditions.filter { $0.type == "video" || $0.type == "audio" }.map { rendition in
            let codecs = try #require(rendition.codecs, "\(rendition.type) has no codecs string")
            let initSegment = try #require(rendition.files.first { $0.hasSuffix("/init.mp4") }, "no init segment in \(rendition.files)")
            return ["type": rendition.type, "mime": "\(rendition.type)/mp4; codecs=\"\(codecs)\"", "init": "\(name)/\(initSegment)",
                    "segments": rendition.files.filter { $0.hasSuffix(".m4s") }.map { "\(name)/\($0)" }]
        }
        try #require(tracks.count == 2 && (tracks[0]["segments"] as? [String])?.count == 5, "unexpected renditions: \(result.stdout)")
        return tracks
    }

    /// Serves `site` with the page and `plays` over HTTP on 127.0.0.1 (a secure context, as EME
    /// requires), opens the page in headless Chromium and waits for its report.
    func play(_ plays: [[String: Any]], site: URL, scratch: URL) async throws -> Report {
        // Four plays of at most 30 s each when everything times out.
        let data = try await HeadlessChromium.runPage("clearkey.html", files: ["clearkey.js", "mse.js"],
                                                      job: ["playbackRate": 4, "timeout": 30, "plays": plays],
                                                      site: site, scratch: scratch, timeout: .seconds(150))
        return try JSONDecoder().decode(Report.self, from: data)
    }

    @Test(arguments: ["cenc", "cbcs"]) func playsWithTheKeyAndFailsWithAnother(_ scheme: String) async throws {
        let scratch = try Fixtures.temporaryDirectory("kerf-chromium")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let site = scratch.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        let clear = try package("clear", [], in: site)
        let protected = try package(scheme, ["--encrypt", scheme, "--key", "\(Self.keyID):\(Self.key)"], in: site)
        let wrongKey = [["kid": Self.keyID, "key": Self.wrongKey]]
        let report = try await play([
            ["name": "clear", "tracks": clear],
            ["name": scheme, "tracks": protected, "keys": [["kid": Self.keyID, "key": Self.key]]],
            ["name": "wrong key, video", "tracks": protected.filter { $0["type"] as? String == "video" }, "keys": wrongKey],
            ["name": "wrong key, audio", "tracks": protected.filter { $0["type"] as? String == "audio" }, "keys": wrongKey],
        ], site: site, scratch: scratch)
        let log = report.log.joined(separator: "\n")
        let probe = try Command.ffprobe(["-select_streams", "v:0", "-show_entries", "stream=nb_frames", Self.fixture])
        let frames = try #require(((probe["streams"] as? [[String: Any]])?.first?["nb_frames"] as? String).flatMap { Int($0) })

        let control = try report.result("clear")
        try #require(control.outcome == "played" && control.mediaError == nil,
                     "this Chromium does not play the clear package (H.264/AAC through MSE), so it cannot judge the protected one: \(control.error ?? control.outcome)\n\(log)")
        // The rung lasts 10 s; every frame is decoded, though many are dropped at 4×.
        #expect(control.currentTime ?? 0 >= 9.9 && control.frames == frames, "clear: \(control.currentTime ?? 0) s, \(control.frames ?? 0) of \(frames) frames decoded")

        let decrypted = try report.result(scheme)
        #expect(decrypted.outcome == "played" && decrypted.mediaError == nil, "\(scheme) did not play: \(decrypted.error ?? decrypted.outcome)\n\(log)")
        #expect(decrypted.currentTime == control.currentTime && decrypted.frames == frames,
                "\(scheme): \(decrypted.currentTime ?? 0) s, \(decrypted.frames ?? 0) of \(frames) frames decoded")
        #expect(decrypted.requestedKeyIDs == [Self.keyID])
        #expect(decrypted.keyStatuses == [Self.keyID: "usable"])

        // A wrong key decrypts to garbage that Chromium's decoders refuse at the first sample.
        for (name, type) in [("wrong key, video", "video"), ("wrong key, audio", "audio")] {
            let wrong = try report.result(name)
            #expect(wrong.requestedKeyIDs == [Self.keyID])
            #expect(wrong.outcome == "error" && wrong.mediaError?.code == 3 && wrong.frames == 0, "\(name): \(wrong.outcome), \(wrong.frames ?? 0) frames\n\(log)")
            let message = wrong.mediaError?.message ?? ""
            #expect(message.contains("PIPELINE_ERROR_DECODE") && message.contains("\(type) packet"), "\(name): \(message)")
        }
    }
}
