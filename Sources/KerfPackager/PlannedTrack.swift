import KerfCore

/// One input track chosen for the package, with the names it will be published under.
struct PlannedTrack: Sendable {
    /// The packager's track number (also the order of renditions in manifests).
    var number: Int
    var input: Int
    var inputPath: String
    var info: TrackInfo
    var kind: Segmenter.Kind
    /// Folder of the rendition inside the package.
    var folder: String
    var language: String?
    var name: String
    var isDefault: Bool

    /// Typical frame duration: the tolerance unit for audio/text cuts.
    var frameDuration: MediaTime {
        switch kind {
        case .video:
            if let rate = info.frameRate, rate.numerator > 0 {
                return MediaTime(value: rate.denominator, timescale: rate.numerator)
            }
            return MediaTime(value: 1, timescale: 25)
        case .audio:
            let rate = Int64(info.sampleRate ?? 48000)
            return MediaTime(value: info.codec == "opus" ? rate / 50 : 1024, timescale: rate)
        case .text:
            return MediaTime(value: 1, timescale: 1000)
        }
    }

    /// Plans every packageable track of the inputs, naming renditions uniquely.
    static func plan(inputs: [(path: String, tracks: [TrackInfo])]) -> [PlannedTrack] {
        var planned: [PlannedTrack] = []
        var usedFolders = Set<String>()
        func unique(_ base: String) -> String {
            var name = base, n = 2
            while usedFolders.contains(name) { name = "\(base)_\(n)"; n += 1 }
            usedFolders.insert(name)
            return name
        }
        var audioSeen = 0, textSeen = 0
        for (inputIndex, input) in inputs.enumerated() {
            for track in input.tracks {
                let kind: Segmenter.Kind
                let folder: String
                var name: String
                switch track.mediaType {
                case .video where StreamCopyVerdict.videoCodecs.contains(track.codec):
                    kind = .video
                    folder = unique("video_\(track.height ?? 0)p")
                    name = "\(track.height ?? 0)p"
                case .audio where StreamCopyVerdict.audioCodecs.contains(track.codec) && track.codec != "mp3":
                    kind = .audio
                    folder = unique("audio_\(track.language ?? "und")_\(track.codec)")
                    name = Languages.name(track.language) ?? "Audio \(audioSeen + 1)"
                    audioSeen += 1
                case .subtitle where StreamCopyVerdict.textCodecs.contains(track.codec):
                    kind = .text
                    folder = unique("text_\(track.language ?? "und")")
                    name = Languages.name(track.language) ?? "Subtitles \(textSeen + 1)"
                    textSeen += 1
                default:
                    continue
                }
                planned.append(PlannedTrack(number: planned.count, input: inputIndex, inputPath: input.path, info: track,
                                            kind: kind, folder: folder, language: track.language, name: name,
                                            isDefault: false))
            }
        }
        // The first rendition of each type is the default one.
        for kind in [Segmenter.Kind.audio, .text] {
            if let first = planned.firstIndex(where: { $0.kind == kind }) { planned[first].isDefault = true }
        }
        return planned
    }
}

/// Display names for common ISO 639-2 codes (used for NAME and labels).
enum Languages {
    static let names: [String: String] = [
        "eng": "English", "fra": "Français", "fre": "Français", "deu": "Deutsch", "ger": "Deutsch",
        "spa": "Español", "ita": "Italiano", "por": "Português", "nld": "Nederlands", "dut": "Nederlands",
        "jpn": "日本語", "zho": "中文", "chi": "中文", "kor": "한국어", "rus": "Русский", "ara": "العربية",
    ]
    static func name(_ code: String?) -> String? { code.flatMap { names[$0] ?? $0 } }
}
