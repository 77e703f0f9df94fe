import Foundation
import KerfTestSupport
import Testing
import KerfTestTags
#if canImport(Glibc)
import Glibc
#endif

/// `kerf package` refusing what it cannot do, and interrupted runs that must not leave a broken package.
@Suite(.tags(.integration)) struct PackageErrorTests {
    func run(_ arguments: [String]) throws -> Command.Result {
        try Command.run(Fixtures.kerf, ["package"] + arguments)
    }

    @Test func inputsThatNeedTranscodingAreRefusedWithTheReasonUnderTranscodeNever() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let result = try run([Fixtures.path("mpeg2_mp2.ts"), "-o", out, "--transcode", "never"])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("mpeg2video is not allowed"))
        #expect(result.stderr.contains("mp2 is not allowed"), "every reason is given: \(result.stderr)")
        #expect(result.stderr.contains("--transcode"))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "staging left behind")
    }

    /// A stream left out with --streams cannot block the job.
    @Test func unselectedStreamsAreNotJudged() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mix = dir.appendingPathComponent("mix.mkv").path
        #expect(try Command.run("ffmpeg", ["-v", "error", "-i", Fixtures.path("mpeg2_mp2.ts"), "-i", Fixtures.path("audio_only.m4a"),
                                           "-map", "0:v", "-map", "1:a", "-c", "copy", mix]).status == 0)
        let out = dir.appendingPathComponent("out").path
        #expect(try run([mix, "-o", out, "--transcode", "never"]).status == 2)
        let audioOnly = try run([mix, "-o", out, "--streams", "0:a", "--transcode", "never"])
        #expect(audioOnly.status == 0, "\(audioOnly.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/audio_und_aac/playlist.m3u8"))
        let key = try run([Fixtures.path("h264_aac_10s.mp4"), "-o", out + "2", "--formats", "hls", "--encrypt", "aes-128", "--key", dir.path])
        #expect(key.status == 2 && key.stderr == "kerf: \(dir.path): cannot read key file: not a readable file\n")
    }

    @Test func misalignedRenditionsAreReported() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try run([Fixtures.path("ladder_360p.mp4"), Fixtures.path("h264_irregular_gop.mp4"),
                              "-o", dir.appendingPathComponent("out").path, "--transcode", "never"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not keyframe-aligned"))
        #expect(result.stderr.contains("h264_irregular_gop.mp4 cuts segment 2 at 7.960 s"))
    }

    @Test func brokenInputsAndOptionsExitTwo() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        for name in Fixtures.broken {
            let result = try run([Fixtures.path(name), "-o", out])
            #expect(result.status == 2)
            #expect(result.stderr.hasPrefix("kerf: \(Fixtures.path(name)): "))
        }
        #expect(try run([Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--formats", "smooth"]).status == 2)
        #expect(try run([Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--encrypt", "aes-128",
                         "--key", "00"]).status == 2)
        let dash = try run([Fixtures.path("h264_aac_10s.mp4"), "-o", out, "--encrypt", "aes-128",
                            "--key", "000102030405060708090a0b0c0d0e0f"])
        #expect(dash.status == 2 && dash.stderr.contains("DASH cannot carry"))
    }

    @Test func existingPackageIsKeptWithoutForceAndReplacedWithIt() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        #expect(try run([Fixtures.path("h264_aac_10s.mp4"), "-o", out]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/master.m3u8"))
        let refused = try run([Fixtures.path("audio_only.m4a"), "-o", out])
        #expect(refused.status == 2 && refused.stderr.contains("--force"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/master.m3u8")) == before)
        #expect(try run([Fixtures.path("audio_only.m4a"), "-o", out, "--force"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: out + "/video_360p"))
        #expect(FileManager.default.fileExists(atPath: out + "/audio_und_aac/playlist.m3u8"))
    }

    /// SIGKILL at random points never leaves a manifest that names a missing file, and never
    /// damages the package that was there before.
    @Test func killedRunsLeaveNoBrokenManifest() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let inputs = PackageTests.ladder
        #expect(try run(inputs + ["-o", out, "--formats", "hls,dash,hls-ts"]).status == 0)
        let original = try snapshot(out)
        for attempt in 0..<12 {
            let process = try ChildProcess(Fixtures.kerf, ["package"] + inputs + ["-o", out, "--force", "--formats", "hls,dash,hls-ts",
                                                                                   "--segment-duration", attempt % 2 == 0 ? "2" : "4"])
            usleep(UInt32.random(in: 0...90_000))
            process.kill()
            process.waitUntilExit()
            // Either the old package or a complete new one: every URI in every manifest exists.
            let now = try snapshot(out)
            #expect(now == original || now.count >= original.count, "attempt \(attempt): partial package")
            try assertManifestsComplete(out)
        }
        // A later run cleans up the staging directories the killed runs left.
        #expect(try run(inputs + ["-o", out, "--force"]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"])
    }

    func snapshot(_ root: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return files
    }

    func assertManifestsComplete(_ root: String) throws {
        let fm = FileManager.default
        let enumerator = fm.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".m3u8") else { continue }
            let path = root + "/" + relative
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
                var uri: String?
                if !line.hasPrefix("#") { uri = String(line) }
                if let range = line.range(of: "URI=\"") { uri = String(line[range.upperBound...].prefix { $0 != "\"" }) }
                if let uri {
                    #expect(fm.fileExists(atPath: folder.appendingPathComponent(uri).standardized.path), "\(relative) names missing \(uri)")
                }
            }
        }
        let mpd = root + "/manifest.mpd"
        if fm.fileExists(atPath: mpd) {
            let text = try String(contentsOfFile: mpd, encoding: .utf8)
            for piece in text.components(separatedBy: "initialization=\"").dropFirst() {
                let uri = String(piece.prefix { $0 != "\"" })
                #expect(fm.fileExists(atPath: root + "/" + uri), "manifest.mpd names missing \(uri)")
            }
        }
    }
}
