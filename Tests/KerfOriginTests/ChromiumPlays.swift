import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// Headless Chromium (Debian's `chromium`) as a player: HLS through its own player
/// (`<video src=…m3u8>`), DASH through Media Source Extensions fed by a small MPD reader of this
/// project's (`Tests/Browser/player.html`, `mpd-reader.js`, `player.js`); what its page reports
/// and how a play is judged.
enum ChromiumPlays {
    /// What the page POSTs back (see `Tests/Browser/player.js`).
    struct Report: Decodable {
        struct Result: Decodable {
            var name: String
            /// [wall seconds, currentTime, decoded frames, readyState]
            var samples: [[Double]]
            var error: String?
            var canPlay: String
            /// What the DASH feed did (MPD reads, appends, the start); empty for HLS.
            var trace: [String]?
        }
        var results: [Result]
    }

    /// Why a play does not count as playing for `seconds` (empty when it does): the media time
    /// must advance by at least half the wall time and still be advancing in the last second,
    /// frames must be decoded and no error may occur; one shorter than the play may end once
    /// played through.
    static func problems(_ result: Report.Result, seconds: Double, duration: Double? = nil) -> [String] {
        var problems: [String] = []
        if let error = result.error { problems.append("error: \(error)") }
        guard let first = result.samples.first(where: { $0[1] > 0 || $0[2] > 0 }) ?? result.samples.first,
              let last = result.samples.last else { return problems + ["no samples"] }
        if last[2] <= first[2] { problems.append("no frame decoded after the first sample (\(last[2]))") }
        if let duration, last[1] >= duration - 1 { return problems }
        let advanced = last[1] - first[1]
        if advanced < seconds / 2 { problems.append("currentTime advanced \(advanced) s in \(seconds) s") }
        let recent = result.samples.filter { $0[0] >= last[0] - 1 }
        if let earliest = recent.first, last[1] <= earliest[1] { problems.append("currentTime stopped at \(last[1]) s") }
        return problems
    }

    /// The samples as "wall s: currentTime s, frames, readyState", then what the DASH feed
    /// did, for a failure's message (a play that failed can then be told apart: never started,
    /// stalled, or started late, and where its feed stopped).
    static func trace(_ result: Report.Result) -> String {
        let samples = result.samples.map { sample in
            sample.count == 4 ? String(format: "%.2f: %.2f, %.0f, %.0f", sample[0], sample[1], sample[2], sample[3]) : "\(sample)"
        }.joined(separator: "; ")
        guard let trace = result.trace, !trace.isEmpty else { return samples }
        return samples + "; feed " + trace.joined(separator: "; ")
    }
}
