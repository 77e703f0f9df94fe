import KerfCore

/// A publisher's ad break cue: an `onCuePoint` data message (AMF0 `"onCuePoint", {…}`) whose
/// `name` (or `parameters.type`, `parameters.cue_type`) is a splice type — `out`, `cue-out`,
/// `splice-out` (a break starts) or `in`, `cue-in`, `splice-in` (it ends), case, `-`, `_` and
/// spaces ignored — with optional `parameters.duration` (seconds, a number or a numeric string)
/// and `parameters.id`. It applies at its `time` (seconds of the stream) when given, else at the
/// message's timestamp. Other cue points (chapters, captions) are not splices (`parse` gives nil).
package struct RTMPCuePoint: Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case out, `in` }

    package var kind: Kind
    /// An identifier of letters, digits, `-_.:` (up to 64), else nil: it becomes a DATERANGE ID.
    package var id: String?
    package var duration: MediaTime?
    /// When it applies on the stream's timeline (the FLV tags' milliseconds).
    package var time: MediaTime

    package init(kind: Kind, id: String? = nil, duration: MediaTime? = nil, time: MediaTime) {
        self.kind = kind
        self.id = id
        self.duration = duration
        self.time = time
    }

    /// The cue point of a data message's values (`"onCuePoint", {…}`), when it is a splice.
    static func parse(_ values: [AMF0], timestamp: UInt32) -> RTMPCuePoint? {
        guard values.first?.string == "onCuePoint", values.count >= 2 else { return nil }
        let cue = values[1], parameters = cue["parameters"]
        let types = [cue["name"], parameters?["type"], parameters?["cue_type"]].compactMap { $0?.string }
        let kinds = types.compactMap { type -> Kind? in
            switch type.lowercased().filter({ !"-_ ".contains($0) }) {
            case "out", "cueout", "spliceout": return .out
            case "in", "cuein", "splicein": return .in
            default: return nil
            }
        }
        guard let kind = kinds.first else { return nil }
        let seconds = { (value: AMF0?) -> Double? in value?.number ?? value?.string.flatMap(Double.init) }
        let duration = seconds(parameters?["duration"]).flatMap { $0.isFinite && $0 > 0 && $0 <= 86_400 ? $0 : nil }
        let id = parameters?["id"]?.string.flatMap { id in
            !id.isEmpty && id.utf8.count <= 64 && id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) ? id : nil
        }
        let time = seconds(cue["time"]).flatMap { $0.isFinite && $0 >= 0 ? MediaTime(seconds: $0, timescale: 1000) : nil }
        return RTMPCuePoint(kind: kind, id: id, duration: duration.map { MediaTime(seconds: $0, timescale: 1000) },
                            time: time ?? MediaTime(value: Int64(timestamp), timescale: 1000))
    }
}
