import Foundation
import KerfCore
import KerfLive

/// The operator page (`/`): each live channel's state, refreshed every 5 s from `/?part=live`
/// by a few lines of script (the previews are not reloaded), a preview of each channel in the
/// browser's own HLS player where it has one, and each package's renditions and duration.
/// Server-rendered HTML; behind `admin-token` like `/metrics`.
extension OriginServer {
    func statusPage(now: Double) -> String {
        var previews = ""
        for name in channels.keys.sorted() where channels[name]!.configuration.formats.contains(.hls) {
            let escaped = Markup.escaped(name)
            previews += """
                <figure><video muted autoplay playsinline controls width="320" data-src="/live/\(escaped)/master.m3u8"></video>
                <figcaption>\(escaped)</figcaption></figure>

                """
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>kerf serve</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; } table { border-collapse: collapse; }
            td, th { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
            .up { color: #070; } .down { color: #a00; } figure { display: inline-block; margin: 0 1em 1em 0; }
            </style></head><body>
            <h1>kerf serve</h1>
            <h2>Live channels</h2>
            <div id="live">\(liveTable(now: now))</div>
            \(previews.isEmpty ? "" : "<h2>Previews</h2>\n<p id=\"previews\">\n\(previews)</p>")
            <h2>VOD packages</h2>
            \(packageTable())
            <script>
            // Native HLS only: where the browser has none, say so instead of a player library.
            for (const video of document.querySelectorAll('video[data-src]')) {
              if (video.canPlayType('application/vnd.apple.mpegurl')) video.src = video.dataset.src;
              else video.replaceWith(Object.assign(document.createElement('span'), {textContent: 'no native HLS in this browser'}));
            }
            setInterval(async () => {
              const response = await fetch('/?part=live', {cache: 'no-store'});
              if (response.ok) document.getElementById('live').innerHTML = await response.text();
            }, 5000);
            </script>
            </body></html>

            """
    }

    /// The live channels' state as a table (the part the page refreshes).
    func liveTable(now: Double) -> String {
        guard !channels.isEmpty else { return "<p>none configured</p>" }
        var rows = ""
        for name in channels.keys.sorted() {
            let channel = channels[name]!
            let stats = channel.statistics.withLock { $0 }
            let (renditions, lastPublication) = channel.window.withLock { window in
                (window.renditions.keys.sorted().map { folder -> String in
                    let info = window.renditions[folder]!.track.info
                    let size = info.width.flatMap { width in info.height.map { "\(width)×\($0)" } }
                    let rate = window.presentation.tracks[folder].map { Self.bitRate(Double($0.bandwidth)) }
                    return ([folder, info.codecString, size, rate].compactMap { $0 }).joined(separator: " ")
                }, window.lastPublication)
            }
            let waiting = channel.isPush ? "waiting for a publisher" : "waiting for input"
            let state = stats.connected ? "<span class=\"up\">\(channel.isPush ? "publishing" : "connected")</span>"
                : "<span class=\"down\">\(waiting)</span>"
                + (stats.lastError.map { ": " + Markup.escaped(Self.redacted(error: $0, input: channel.configuration.input)) } ?? "")
            let age = lastPublication.map { String(format: "%.1f s", max(0, now - $0)) } ?? "none yet"
            let formats = channel.configuration.formats
            let manifests = [("master.m3u8", OriginConfiguration.Format.hls), ("manifest.mpd", .dash), ("master-ts.m3u8", .hlsTS)]
                .filter { formats.contains($0.1) }
                .map { "<a href=\"/live/\(Markup.escaped(name))/\($0.0)\">\($0.0)</a>" }
            let sessions = channel.isPush ? "\(stats.connections) publish\(stats.connections == 1 ? "" : "es")"
                : "\(stats.connections) connection\(stats.connections == 1 ? "" : "s"), \(stats.reconnects) reconnect\(stats.reconnects == 1 ? "" : "s")"
            // Breaks running: their id and for how long (of how long planned).
            let origin = channel.window.withLock { $0.origin }
            let breaks = channel.runningBreaks.map { marker in
                let elapsed = String(format: "%.0f", max(0, now - origin - marker.start.seconds))
                return Markup.escaped(marker.id) + ": \(elapsed) s" + (marker.plannedDuration.map { String(format: " of %.0f s", $0.seconds) } ?? "")
            }
            rows += "<tr><td>\(Markup.escaped(name))</td><td>\(state)</td><td>\(Markup.escaped(Self.redacted(channel.configuration.input)))</td>"
                + "<td>\(stats.bitRate.map(Self.bitRate) ?? "–")</td><td>\(age)</td><td>\(sessions)</td>"
                + "<td>\(renditions.map(Markup.escaped).joined(separator: "<br>"))</td><td>\(manifests.joined(separator: " "))</td>"
                + "<td>\(breaks.isEmpty ? "–" : breaks.joined(separator: "<br>"))</td></tr>\n"
        }
        return "<table><tr><th>channel</th><th>state</th><th>input</th><th>bit rate in</th><th>last segment</th>"
            + "<th>sessions</th><th>renditions</th><th>manifests</th><th>ad break</th></tr>\n\(rows)</table>"
    }

    /// The packages under the root (folders holding master.m3u8 or manifest.mpd), with their
    /// renditions and duration as their MPD or multivariant playlist says.
    func packageTable() -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var rows = ""
        for name in names {
            let folder = "\(root)/\(name)"
            let manifests = ["master.m3u8", "manifest.mpd", "master-ts.m3u8"].filter { FileManager.default.fileExists(atPath: "\(folder)/\($0)") }
            guard !manifests.isEmpty else { continue }
            let link = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
            let mpd = (try? String(contentsOfFile: "\(folder)/manifest.mpd", encoding: .utf8)) ?? ""
            let duration = mpd.firstMatch(of: /mediaPresentationDuration="([^"]+)"/).flatMap { XSTime.duration(String($0.1)) }
            var renditions = mpd.matches(of: /<Representation id="([^"]+)" bandwidth="([0-9]+)"/).map { "\($0.1) \(Self.bitRate(Double($0.2) ?? 0))" }
            if renditions.isEmpty, let master = try? String(contentsOfFile: "\(folder)/master.m3u8", encoding: .utf8) {
                renditions = master.split(separator: "\n").enumerated().compactMap { index, line in
                    guard line.hasPrefix("#EXT-X-STREAM-INF:") else { return nil }
                    return line.firstMatch(of: /RESOLUTION=([0-9x]+)/).map { String($0.1) } ?? "variant \(index)"
                }
            }
            rows += "<tr><td>\(Markup.escaped(name))</td><td>\(duration.map { String(format: "%.1f s", $0) } ?? "–")</td>"
                + "<td>\(renditions.map(Markup.escaped).joined(separator: "<br>"))</td><td>"
                + manifests.map { "<a href=\"/vod/\(link)/\($0)\">\($0)</a>" }.joined(separator: " ") + "</td></tr>\n"
        }
        guard !rows.isEmpty else { return "<p>none under the root folder</p>" }
        return "<table><tr><th>package</th><th>duration</th><th>renditions</th><th>manifests</th></tr>\n\(rows)</table>"
    }

    /// An input as shown: a URL without its user name, password or query (stream keys and
    /// passphrases travel there), and an RTMP URL without its path (the stream key); a URL that
    /// cannot be parsed shows its scheme only.
    static func redacted(_ input: String) -> String {
        guard let separator = input.range(of: "://") else { return input }
        guard var components = URLComponents(string: input), let host = components.host else {
            return String(input[..<separator.upperBound]) + "… (hidden)"
        }
        let rtmp = components.scheme?.lowercased().hasPrefix("rtmp") == true
        let hidden = components.user != nil || components.password != nil || components.query != nil || (rtmp && components.path.count > 1)
        components.user = nil
        components.password = nil
        components.query = nil
        if rtmp { components.path = "" }
        return (components.string ?? "\(components.scheme ?? "")://\(host)") + (hidden ? " (credentials hidden)" : "")
    }

    /// An input error as shown: the input URL, which libav's messages start with, redacted.
    static func redacted(error: String, input: String) -> String {
        guard input.contains("://") else { return error }
        return error.replacingOccurrences(of: input, with: redacted(input))
    }

    static func bitRate(_ bps: Double) -> String {
        bps >= 1_000_000 ? String(format: "%.2f Mbit/s", bps / 1_000_000) : String(format: "%.0f kbit/s", bps / 1000)
    }
}
