import KerfCore

/// Writes HLS playlists as text, tags in the order RFC 8216bis lists them.
public enum HLSWriter {
    public static func write(_ playlist: MediaPlaylist) -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:\(playlist.requiredVersion)"]
        lines.append("#EXT-X-TARGETDURATION:\(playlist.targetDuration)")
        if playlist.mediaSequence != 0 || playlist.playlistType == nil { lines.append("#EXT-X-MEDIA-SEQUENCE:\(playlist.mediaSequence)") }
        if playlist.discontinuitySequence != 0 { lines.append("#EXT-X-DISCONTINUITY-SEQUENCE:\(playlist.discontinuitySequence)") }
        if let type = playlist.playlistType { lines.append("#EXT-X-PLAYLIST-TYPE:\(type.rawValue)") }
        if playlist.independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        if playlist.iFramesOnly { lines.append("#EXT-X-I-FRAMES-ONLY") }
        if let lowLatency = playlist.lowLatency { lines += lowLatency.headerTags }
        for segment in playlist.segments {
            if segment.discontinuity { lines.append("#EXT-X-DISCONTINUITY") }
            if let map = segment.map {
                var attributes = [("URI", quoted(map.uri))]
                if let range = map.byteRange { attributes.append(("BYTERANGE", quoted(range.attributeValue))) }
                lines.append("#EXT-X-MAP:" + list(attributes))
            }
            for key in segment.keys { lines.append("#EXT-X-KEY:" + keyAttributes(key)) }
            if let cue = segment.cueTag { lines.append(cue.line) }
            if let date = segment.programDateTime { lines.append("#EXT-X-PROGRAM-DATE-TIME:\(date)") }
            lines += segment.dateRanges.map(dateRange)
            lines += segment.parts.map(\.tag)
            lines.append("#EXTINF:\(hlsDecimal(segment.duration)),\(segment.title ?? "")")
            if let range = segment.byteRange { lines.append("#EXT-X-BYTERANGE:\(range.attributeValue)") }
            lines.append(segment.uri)
        }
        if let lowLatency = playlist.lowLatency { lines += lowLatency.trailingDateRanges.map(dateRange) + lowLatency.trailerTags }
        if playlist.endList { lines.append("#EXT-X-ENDLIST") }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func write(_ playlist: MultivariantPlaylist) -> String {
        var lines = ["#EXTM3U"]
        if playlist.requiredVersion > 1 { lines.append("#EXT-X-VERSION:\(playlist.requiredVersion)") }
        if playlist.independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        for key in playlist.sessionKeys { lines.append("#EXT-X-SESSION-KEY:" + keyAttributes(key)) }
        if !playlist.renditions.isEmpty { lines.append("") }
        for r in playlist.renditions {
            var a: [(String, String)] = [("TYPE", r.type.rawValue), ("GROUP-ID", quoted(r.groupID)), ("NAME", quoted(r.name))]
            if let language = r.language { a.append(("LANGUAGE", quoted(language))) }
            a.append(("DEFAULT", r.isDefault ? "YES" : "NO"))
            a.append(("AUTOSELECT", r.autoselect ? "YES" : "NO"))
            if r.type == .subtitles { a.append(("FORCED", r.forced ? "YES" : "NO")) }
            if let id = r.instreamID { a.append(("INSTREAM-ID", quoted(id))) }
            if let c = r.characteristics { a.append(("CHARACTERISTICS", quoted(c))) }
            if let channels = r.channels { a.append(("CHANNELS", quoted(channels))) }
            if let uri = r.uri { a.append(("URI", quoted(uri))) }
            lines.append("#EXT-X-MEDIA:" + list(a))
        }
        for v in playlist.variants {
            lines.append("")
            var a: [(String, String)] = [("BANDWIDTH", "\(v.bandwidth)")]
            if let average = v.averageBandwidth { a.append(("AVERAGE-BANDWIDTH", "\(average)")) }
            if !v.codecs.isEmpty { a.append(("CODECS", quoted(v.codecs.joined(separator: ",")))) }
            if let r = v.resolution { a.append(("RESOLUTION", "\(r.width)x\(r.height)")) }
            if let rate = v.frameRate { a.append(("FRAME-RATE", frameRate(rate))) }
            if let range = v.videoRange { a.append(("VIDEO-RANGE", range)) }
            if let group = v.audioGroup { a.append(("AUDIO", quoted(group))) }
            if let group = v.subtitlesGroup { a.append(("SUBTITLES", quoted(group))) }
            if let cc = v.closedCaptions { a.append(("CLOSED-CAPTIONS", cc == "NONE" ? cc : quoted(cc))) }
            lines.append("#EXT-X-STREAM-INF:" + list(a))
            lines.append(v.uri)
        }
        if !playlist.iFrameVariants.isEmpty { lines.append("") }
        for v in playlist.iFrameVariants {
            var a: [(String, String)] = [("BANDWIDTH", "\(v.bandwidth)")]
            if let average = v.averageBandwidth { a.append(("AVERAGE-BANDWIDTH", "\(average)")) }
            if !v.codecs.isEmpty { a.append(("CODECS", quoted(v.codecs.joined(separator: ",")))) }
            if let w = v.width, let h = v.height { a.append(("RESOLUTION", "\(w)x\(h)")) }
            if let range = v.videoRange { a.append(("VIDEO-RANGE", range)) }
            a.append(("URI", quoted(v.uri)))
            lines.append("#EXT-X-I-FRAME-STREAM-INF:" + list(a))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func keyAttributes(_ key: HLSKey) -> String {
        var a: [(String, String)] = [("METHOD", key.method.rawValue)]
        if let uri = key.uri { a.append(("URI", quoted(uri))) }
        if let iv = key.iv { a.append(("IV", iv)) }
        if let keyID = key.keyID { a.append(("KEYID", keyID)) }
        if let format = key.keyFormat { a.append(("KEYFORMAT", quoted(format))) }
        if let versions = key.keyFormatVersions { a.append(("KEYFORMATVERSIONS", quoted(versions))) }
        return list(a)
    }

    /// EXT-X-DATERANGE, attributes in the order §4.4.5.1 lists them.
    static func dateRange(_ range: HLSDateRange) -> String {
        var a: [(String, String)] = [("ID", quoted(range.id)), ("START-DATE", quoted(range.startDate))]
        if let duration = range.duration { a.append(("DURATION", hlsDecimal(duration))) }
        if let planned = range.plannedDuration { a.append(("PLANNED-DURATION", hlsDecimal(planned))) }
        if let cmd = range.scte35Cmd { a.append(("SCTE35-CMD", cmd)) }
        if let out = range.scte35Out { a.append(("SCTE35-OUT", out)) }
        if let `in` = range.scte35In { a.append(("SCTE35-IN", `in`)) }
        return "#EXT-X-DATERANGE:" + list(a)
    }

    /// FRAME-RATE with three decimals (§4.4.6.2: "rounded to three decimal places").
    static func frameRate(_ rate: Double) -> String {
        let milli = Int((rate * 1000).rounded())
        let fraction = String(milli % 1000)
        return "\(milli / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    static func quoted(_ value: String) -> String { "\"\(value)\"" }
    static func list(_ attributes: [(String, String)]) -> String {
        attributes.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }
}
