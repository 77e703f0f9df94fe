import FoundationEssentials
import KerfCore
import Yams

/// A splice asked for by a cue list (`kerf package --cues`): a break (or, with a section
/// that signals something else, that signal) at `time` seconds from the presentation start.
public struct CuePoint: Sendable, Hashable {
    public var time: MediaTime
    /// The break's planned duration (the section's break or segmentation duration when absent).
    public var duration: MediaTime?
    /// The EXT-X-DATERANGE ID (default: `splice-<event id>`).
    public var id: String?
    /// The splice_info_section to signal (default: a splice_insert Kerf writes).
    public var section: [UInt8]?

    public init(time: MediaTime, duration: MediaTime? = nil, id: String? = nil, section: [UInt8]? = nil) {
        self.time = time
        self.duration = duration
        self.id = id
        self.section = section
    }

    /// Loads a cue list: a YAML or JSON list (or a mapping with a `cues` list) of entries with
    /// `time` (seconds, required), `duration` (seconds), `id`, and `scte35` (a section in
    /// base64 or hex, `0x` optional).
    /// - Throws: `PackagerError.invalidOptions` naming the file, the entry and what is wrong.
    public static func load(file: String) throws(PackagerError) -> [CuePoint] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PackagerError(.invalidOptions, "cannot read the cue list", reason: "not a readable file", file: file)
        }
        let node: Node?
        do { node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw PackagerError(.invalidOptions, "the cue list is not valid YAML or JSON",
                                reason: "\(error)".split(separator: "\n").first.map(String.init) ?? "", file: file)
        }
        guard let list = node?.sequence ?? node?.mapping?["cues"]?.sequence else {
            throw PackagerError(.invalidOptions, "a cue list is a list of cues", reason: "expected a list, or a mapping with a 'cues' list", file: file)
        }
        var cues: [CuePoint] = []
        for (index, entry) in list.enumerated() {
            let label = "cue \(index + 1)"
            func bad(_ why: String) -> PackagerError { PackagerError(.invalidOptions, "\(label): \(why)", file: file) }
            guard let mapping = entry.mapping else { throw bad("must be a mapping with a time") }
            var time: MediaTime?, cue = CuePoint(time: .zero(timescale: 1))
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? "?"
                let text = value.scalar?.string ?? ""
                func seconds() throws(PackagerError) -> MediaTime {
                    guard let number = Double(text), number.isFinite, number >= 0, number <= 1e7 else {
                        throw bad("\(key) must be a number of seconds, not '\(text)'")
                    }
                    return MediaTime(seconds: number, timescale: SpliceInfoSection.clockRate)
                }
                switch key {
                case "time": time = try seconds()
                case "duration":
                    cue.duration = try seconds()
                    if cue.duration!.value == 0 { throw bad("duration must be positive") }
                case "id":
                    guard !text.isEmpty, !text.contains("\""), !text.contains(where: \.isNewline) else {
                        throw bad("id must be text without quotes or line breaks")
                    }
                    cue.id = text
                case "scte35":
                    let candidates = [Hex.bytes(text), Base64.decode(text)].compactMap { $0 }
                    guard !candidates.isEmpty else { throw bad("scte35 is neither hex nor base64") }
                    var problem = ""
                    for bytes in candidates {
                        do {
                            _ = try SpliceInfoSection.parse(bytes)
                            cue.section = bytes
                            break
                        } catch where problem.isEmpty { problem = error.reason } catch {}
                    }
                    if cue.section == nil { throw bad("scte35 is not a splice_info_section: \(problem)") }
                default: throw bad("unknown key '\(key)' (known: time, duration, id, scte35)")
                }
            }
            guard let time else { throw bad("time is missing") }
            cue.time = time
            cues.append(cue)
        }
        return cues
    }
}
