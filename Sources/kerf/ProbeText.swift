import KerfCore
import KerfMedia

/// The human-readable form of a `ProbeReport`.
enum ProbeText {
    static func render(_ report: ProbeReport) -> String {
        var out = "\(report.url)\n"
        let c = report.container
        out += "  container  \(c.formatName)\(c.formatLongName.map { " (\($0))" } ?? "")\n"
        var summary: [String] = []
        if let duration = c.duration { summary.append("duration \(seconds(duration.seconds)) s") }
        if let start = c.startTime { summary.append("start \(seconds(start.seconds)) s") }
        if let rate = c.bitRate { summary.append("bitrate \(kbps(rate))") }
        if let size = c.size { summary.append("size \(size) bytes") }
        if !summary.isEmpty { out += "  " + summary.joined(separator: ", ") + "\n" }
        for track in report.tracks {
            out += "  #\(track.index) \(describe(track))\n"
            if let gop = report.gops[track.index] {
                out += "      GOP: \(describe(gop))\n"
            }
            if let captions = report.captions[track.index] {
                out += "      closed captions: \(captions.instreamIDs.joined(separator: ", "))\n"
            }
        }
        let verdict = report.verdict
        out += "  can be packaged by stream copy for HLS/DASH (\(seconds(report.targetSegmentDuration)) s segments): "
        out += verdict.canStreamCopy ? "yes\n" : "no\n"
        for finding in verdict.findings {
            let prefix = finding.blocking ? "reason" : "note"
            let track = finding.track.map { "#\($0) " } ?? ""
            out += "    - \(prefix): \(track)\(finding.message)\n"
        }
        return out
    }

    static func describe(_ t: TrackInfo) -> String {
        var parts = ["\(t.mediaType.rawValue):", t.codec]
        if let codecs = t.codecString { parts.append("(\(codecs))") }
        if let profile = t.profile { parts.append(profile) }
        if t.mediaType == .video, let level = t.level { parts.append("level \(levelText(level, codec: t.codec))") }
        if let w = t.width, let h = t.height { parts.append("\(w)x\(h)") }
        if let rate = t.frameRate { parts.append("\(number(rate.doubleValue)) fps") }
        if let sar = t.sampleAspectRatio { parts.append("SAR \(sar.numerator):\(sar.denominator)") }
        if let pix = t.pixelFormat { parts.append(pix) }
        if let order = t.fieldOrder { parts.append(order == .progressive ? "progressive" : "interlaced (\(order.rawValue))") }
        if let rate = t.sampleRate { parts.append("\(rate) Hz") }
        if let channels = t.channels { parts.append("\(channels) ch" + (t.channelLayout.map { " (\($0))" } ?? "")) }
        if let rate = t.bitRate { parts.append(kbps(rate)) }
        if let language = t.language { parts.append("lang \(language)") }
        if t.isDefault { parts.append("default") }
        return parts.joined(separator: " ")
    }

    static func describe(_ gop: GOPStatistics) -> String {
        guard gop.keyframeCount > 0 else { return "no keyframes" }
        var text = "\(gop.keyframeCount) keyframe\(gop.keyframeCount == 1 ? "" : "s")"
        if let mean = gop.meanInterval, let lo = gop.minInterval, let hi = gop.maxInterval {
            text += ", interval mean \(seconds(mean)) s (min \(seconds(lo)), max \(seconds(hi)))"
            text += gop.isRegular ? ", regular" : ", irregular"
        }
        return text
    }

    /// H.264 codes level × 10, HEVC level × 30; others are shown as coded.
    static func levelText(_ level: Int, codec: String) -> String {
        switch codec {
        case "h264": return "\(level / 10).\(level % 10)"
        case "hevc": return "\(level / 30).\((level % 30) / 3)"
        default: return String(level)
        }
    }

    static func seconds(_ value: Double) -> String {
        let millis = Int((value * 1000).rounded())
        let sign = millis < 0 ? "-" : ""
        let magnitude = abs(millis)
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    static func number(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func kbps(_ bitsPerSecond: Int) -> String { "\((bitsPerSecond + 500) / 1000) kb/s" }
}
