import Foundation

/// Paths of the committed fixtures and of the package's build products.
public enum Fixtures {
    /// The package root (two levels above this file's folder).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ name: String) -> String {
        root.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// The DASH conformance material (MPD schema, example MPDs) kept with the tests.
    public static let conformance: URL = root.appendingPathComponent("Tests/Conformance/dash")
    public static var dashSchema: String { conformance.appendingPathComponent("DASH-MPD.xsd").path }

    /// Every fixture that is valid media, with the file name as key.
    public static let media = [
        "h264_aac_10s.mp4", "hevc_aac.mp4", "h264_irregular_gop.mp4", "mpeg2_mp2.ts",
        "two_languages_subs.mp4", "audio_only.m4a", "ladder_360p.mp4", "ladder_540p.mp4",
        "ladder_720p.mp4", "ladder_audio.m4a",
    ]
    /// Fixtures that must be rejected.
    public static let broken = ["truncated.mp4", "random.bin"]

    /// The folder holding the built `kerf` executable: `$KERF_BIN_DIR`, else the folder of the
    /// running test binary (SwiftPM puts executables and test bundles side by side).
    public static var binaryDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["KERF_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        // Test bundles may live inside `<name>.xctest/…`; climb to the products folder.
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("kerf").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    public static var kerf: String { binaryDirectory.appendingPathComponent("kerf").path }

    /// A new empty temporary directory.
    public static func temporaryDirectory(_ label: String = "kerf-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `playlist`: the 10 s fixture cut by ffmpeg's HLS muxer every second whatever the
    /// GOP (2 s), so odd segments start mid-GOP.
    public static func writeMidGOPCut(to playlist: String) throws {
        let result = try Command.run("ffmpeg", ["-v", "error", "-i", path("h264_aac_10s.mp4"), "-c", "copy", "-f", "hls",
                                                "-hls_time", "1", "-hls_flags", "split_by_time", "-hls_playlist_type", "vod", playlist])
        guard result.status == 0 else { throw CommandError(message: "ffmpeg could not cut \(playlist): \(result.stderr)") }
    }
}
