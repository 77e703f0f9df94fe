import Foundation

/// FFmpeg 5.1's mp4 demuxer as the Common Encryption oracle: one fragmented file (init segment
/// and one media segment: more than one `moof` with `senc` fails in 5.1), decoded with
/// `-decryption_key`.
public enum DecryptedFrames {
    /// The frame checksums (framemd5 lines without comments) ffmpeg decodes from `bytes`, with
    /// `key` (32 hex digits) when given; nil when ffmpeg cannot decode without an error.
    public static func framemd5(_ bytes: Data, key: String?, scratch: URL) throws -> String? {
        let file = scratch.appendingPathComponent("one.mp4")
        try bytes.write(to: file)
        let result = try Command.run("ffmpeg", ["-v", "error"] + (key.map { ["-decryption_key", $0] } ?? []) + ["-i", file.path, "-f", "framemd5", "-"])
        guard result.status == 0, result.stderr.isEmpty else { return nil }
        return result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    }
}
