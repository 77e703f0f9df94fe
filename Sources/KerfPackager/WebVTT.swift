import KerfCore

/// A subtitle cue on the presentation timeline.
struct Cue: Sendable, Hashable {
    var start: MediaTime
    var end: MediaTime
    var text: String
}

/// Converts text samples to WebVTT cues and writes WebVTT files (W3C WebVTT; HLS segmented
/// WebVTT per RFC 8216bis §3.1.4).
enum WebVTT {
    /// The cue text carried by one packet of a text track.
    static func text(codec: String, payload: [UInt8]) -> String {
        switch codec {
        case "mov_text":
            // 3GPP timed text sample: 16-bit text length, UTF-8 text, then style boxes.
            guard payload.count >= 2 else { return "" }
            let length = Int(payload[0]) << 8 | Int(payload[1])
            return String(decoding: payload.dropFirst(2).prefix(length), as: UTF8.self)
        case "ass", "ssa":
            // ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text
            let line = String(decoding: payload, as: UTF8.self)
            let fields = line.split(separator: ",", maxSplits: 8, omittingEmptySubsequences: false)
            var text = fields.count == 9 ? String(fields[8]) : line
            while let open = text.firstRange(of: "{"), let close = text[open.upperBound...].firstRange(of: "}") {
                text.removeSubrange(open.lowerBound..<close.upperBound)
            }
            return text.replacing("\\N", with: "\n").replacing("\\n", with: "\n")
        default:
            return String(decoding: payload, as: UTF8.self)
        }
    }

    /// A WebVTT document. `timestampMap` adds X-TIMESTAMP-MAP (needed by HLS segments): the
    /// MPEG-TS time, in 90 kHz ticks, of cue time zero.
    static func document(_ cues: [Cue], timestampMap: Int64?) -> String {
        var out = "WEBVTT\n"
        if let map = timestampMap { out += "X-TIMESTAMP-MAP=MPEGTS:\(map),LOCAL:00:00:00.000\n" }
        out += "\n"
        for cue in cues {
            out += "\(timestamp(cue.start)) --> \(timestamp(cue.end))\n"
            // A blank line ends a cue, so none may appear inside its text.
            let lines = cue.text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            out += escape(lines.joined(separator: "\n")) + "\n\n"
        }
        return out
    }

    /// The cues overlapping [start, end), unchanged (a cue spanning a boundary appears in both
    /// segments, as RFC 8216bis §3.1.4 expects).
    static func cues(_ cues: [Cue], from start: MediaTime, to end: MediaTime?) -> [Cue] {
        cues.filter { cue in cue.end > start && (end.map { cue.start < $0 } ?? true) }
    }

    static func timestamp(_ time: MediaTime) -> String {
        let millis = max(0, time.rescaled(to: 1000, rounding: .nearest).value)
        let h = millis / 3_600_000, m = millis / 60_000 % 60, s = millis / 1000 % 60, ms = millis % 1000
        func pad(_ v: Int64, _ width: Int) -> String {
            let text = String(v)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(ms, 3))"
    }

    /// Cue text for WebVTT: the tags both SubRip and WebVTT know (`<i>`, `<b>`, `<u>`) are kept,
    /// `<font …>` (which WebVTT lacks) is removed, every other `<`, `>` and `&` is escaped.
    static func escape(_ text: String) -> String {
        let kept: Set<String> = ["<i>", "</i>", "<b>", "</b>", "<u>", "</u>"]
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            out += escapeText(rest[..<open])
            if let close = rest[open...].firstIndex(of: ">") {
                let tag = String(rest[open...close])
                let lowered = tag.lowercased()
                if kept.contains(lowered) {
                    out += lowered
                    rest = rest[rest.index(after: close)...]
                    continue
                }
                if lowered.hasPrefix("<font") || lowered == "</font>" {
                    rest = rest[rest.index(after: close)...]
                    continue
                }
            }
            out += "&lt;"
            rest = rest[rest.index(after: open)...]
        }
        return out + escapeText(rest)
    }

    private static func escapeText(_ text: Substring) -> String {
        String(text).replacing("&", with: "&amp;").replacing(">", with: "&gt;")
    }
}
