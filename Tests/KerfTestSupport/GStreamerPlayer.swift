import Foundation

/// GStreamer as a player oracle: `Tests/Scripts/gst_play.py` plays a URL in `playbin` (the
/// hlsdemux/dashdemux generation) or `playbin3` (hlsdemux2/dashdemux2) with synchronising sinks,
/// as real players render, and reports positions, decoded buffers and errors.
public enum GStreamerPlayer {
    public enum Element: String, Sendable, CaseIterable, CustomStringConvertible {
        case playbin, playbin3
        public var description: String { rawValue }
    }

    /// What one play did.
    public struct Playback: Decodable, Sendable {
        /// [wall seconds since PLAYING, position in seconds or nil when unknown].
        public var positions: [[Double?]]
        public var videoBuffers: Int
        public var audioBuffers: Int
        public var errors: [String]
        public var eos: Bool
        /// Caps names of what reached the sinks (video/x-raw: video was decoded).
        public var streams: [String]
        /// The pipeline's state at the end and the state it was going to ("playing",
        /// "void-pending"): a pipeline that never prerolled stays "ready" or "paused".
        public var state: String?
        public var pending: String?

        enum CodingKeys: String, CodingKey {
            case positions, errors, eos, streams, state, pending
            case videoBuffers = "video_buffers", audioBuffers = "audio_buffers"
        }

        /// Known positions, in order.
        public var knownPositions: [Double] { positions.compactMap { $0.count == 2 ? $0[1] : nil } }

        /// Why the play does not count as playing for `seconds` of wall time (empty when it
        /// does): the position must advance by at least `minimumAdvance` (default half the wall
        /// time) and still be
        /// advancing in the last second, video must reach its sink, and no error may occur. A
        /// presentation shorter than the play may end (EOS) once it has played to `duration`.
        public func problems(seconds: Double, minimumAdvance: Double? = nil, duration: Double? = nil) -> [String] {
            var problems: [String] = []
            if !errors.isEmpty { problems.append("player error: \(errors.joined(separator: "; "))") }
            if let state, state != "playing", !eos { problems.append("the pipeline ended in state \(state) (going to \(pending ?? "?"))") }
            if videoBuffers == 0 || !streams.contains("video/x-raw") { problems.append("no decoded video reached the sink") }
            let known = positions.compactMap { sample -> (wall: Double, position: Double)? in
                guard sample.count == 2, let wall = sample[0], let position = sample[1] else { return nil }
                return (wall, position)
            }
            guard let first = known.first, let last = known.last else { return problems + ["the position was never known"] }
            let advanced = last.position - first.position
            if eos {
                // Only a presentation known to be shorter than the play may end.
                guard let duration else { return problems + ["ended (EOS) at \(last.position) s"] }
                if last.position < duration - 1 { problems.append("ended at \(last.position) s of \(duration) s") }
                return problems
            }
            if advanced < (minimumAdvance ?? seconds / 2) { problems.append("the position advanced \(advanced) s in \(seconds) s of playing") }
            let recent = known.filter { $0.wall >= last.wall - 1 }
            if let earliest = recent.first, last.position <= earliest.position {
                problems.append("the position stopped advancing at \(last.position) s")
            }
            // Position alone is the pipeline clock's; buffers prove media is rendered.
            if videoBuffers < Int(seconds) { problems.append("only \(videoBuffers) video buffers rendered in \(seconds) s") }
            return problems
        }
    }

    /// The system Python, which has GStreamer's introspection bindings (Debian's python3-gi).
    static let python = "/usr/bin/python3"
    /// Debian's bundle of trusted certificate authorities.
    static let trustStore = "/etc/ssl/certs/ca-certificates.crt"

    /// Plays `url` for `seconds` of wall time. With `trusting` (a PEM file of certificate
    /// authorities), GStreamer trusts those authorities alone for HTTPS: the player runs in a
    /// mount namespace of its own (`unshare`, as an unprivileged user may) where that file is
    /// bound over the system's trust store, which GStreamer's TLS (glib-networking) reads. The
    /// machine's store is untouched.
    public static func play(_ url: String, _ element: Element, seconds: Double, trusting authorities: String? = nil) async throws -> Playback {
        let script = Fixtures.root.appendingPathComponent("Tests/Scripts/gst_play.py").path
        let arguments = [script, url, element.rawValue, String(seconds)]
        let result = if let authorities {
            try await Command.runDetached("unshare", ["-rm", "sh", "-c", "mount --bind \"$0\" \(trustStore) && exec \"$@\"", authorities, python]
                                          + arguments)
        } else {
            try await Command.runDetached(python, arguments)
        }
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last else {
            throw CommandError(message: "gst_play.py \(element) \(url) failed (\(result.status)): \(result.stderr.suffix(2000))")
        }
        return try JSONDecoder().decode(Playback.self, from: Data(line.utf8))
    }
}
