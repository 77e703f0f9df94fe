/// The Content-Type of a file the origin serves, from its extension.
struct MediaContentType: Equatable {
    var mimeType: String
    /// Playlists and MPDs: short cache lifetimes, gzip.
    var isManifest: Bool

    init(path: Substring) {
        let bytes = path.utf8
        let name = path[(bytes.lastIndex(of: UInt8(ascii: "/")).map(bytes.index(after:)) ?? bytes.startIndex)...]
        let ext = name.utf8.lastIndex(of: UInt8(ascii: ".")).map { name[name.utf8.index(after: $0)...].lowercased() } ?? ""
        switch ext {
        case "m3u8": self.init("application/vnd.apple.mpegurl", manifest: true)
        case "mpd": self.init("application/dash+xml", manifest: true)
        case "ts": self.init("video/mp2t", manifest: false)
        case "vtt": self.init("text/vtt; charset=utf-8", manifest: false)
        case "aac": self.init("audio/aac", manifest: false)
        case "key": self.init("application/octet-stream", manifest: false)
        case "m4a": self.init("audio/mp4", manifest: false)
        case "mp4", "m4s", "cmfv", "cmfa", "m4v":
            // Kerf names its audio renditions audio_*: say audio/mp4 for those.
            let audio = path.contains("/audio_") || name.utf8.prefix(5).map { $0 | 0x20 }.elementsEqual("audio".utf8) || ext == "cmfa"
            self.init(audio ? "audio/mp4" : "video/mp4", manifest: false)
        case "json": self.init("application/json", manifest: false)
        case "html": self.init("text/html; charset=utf-8", manifest: false)
        default: self.init("application/octet-stream", manifest: false)
        }
    }

    private init(_ mimeType: String, manifest: Bool) {
        self.mimeType = mimeType
        self.isManifest = manifest
    }
}
