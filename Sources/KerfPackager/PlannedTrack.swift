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
    /// A declared bandwidth that replaces the measured one in manifests.
    var bandwidth: Int?
    /// What `--set …:captions=` says of the video's caption channels.
    var captionLabels: [String: ClosedCaptions.Label] = [:]

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
    static func plan(inputs: [(path: String, tracks: [TrackInfo])], selection: StreamSelection = StreamSelection())
        throws(PackagerError) -> [PlannedTrack] {
        for key in selection.overrides.keys.sorted() {
            let parts = key.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, parts[0] < inputs.count, inputs[parts[0]].tracks.contains(where: { $0.index == parts[1] }) else {
                throw PackagerError(.invalidOptions, "--set names stream \(key), which does not exist")
            }
        }
        for case .stream(let input, let index) in selection.selectors ?? [] {
            guard input < inputs.count, inputs[input].tracks.contains(where: { $0.index == index }) else {
                throw PackagerError(.invalidOptions, "--streams names stream \(input):\(index), which does not exist")
            }
        }
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
            for track in input.tracks where selection.selects(input: inputIndex, track: track) {
                let override = selection.overrides["\(inputIndex):\(track.index)"]
                let language = override?.language ?? track.language
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
                    folder = unique("audio_\(language ?? "und")_\(track.codec)")
                    name = Languages.name(language) ?? "Audio \(audioSeen + 1)"
                    audioSeen += 1
                case .subtitle where StreamCopyVerdict.textCodecs.contains(track.codec):
                    kind = .text
                    folder = unique("text_\(language ?? "und")")
                    name = Languages.name(language) ?? "Subtitles \(textSeen + 1)"
                    textSeen += 1
                default:
                    if selection.selectors?.contains(.stream(input: inputIndex, index: track.index)) == true {
                        throw PackagerError(.invalidOptions, "stream \(inputIndex):\(track.index) (\(track.codec)) cannot be packaged",
                                            reason: "only H.264, HEVC, AV1 video, AAC, AC-3, E-AC-3, Opus audio and text subtitles")
                    }
                    continue
                }
                if let given = override?.name { name = given }
                if kind != .video, override?.captions.isEmpty == false {
                    throw PackagerError(.invalidOptions, "--set \(inputIndex):\(track.index):captions: stream \(inputIndex):\(track.index) is \(kind), not video",
                                        reason: "closed captions ride in a video stream")
                }
                // NAME must differ between renditions of one group (RFC 8216bis §4.4.6.1).
                let base = name
                var n = 2
                while planned.contains(where: { $0.kind == kind && $0.name == name }) { name = "\(base) \(n)"; n += 1 }
                planned.append(PlannedTrack(number: planned.count, input: inputIndex, inputPath: input.path, info: track,
                                            kind: kind, folder: folder, language: language, name: name,
                                            isDefault: false, bandwidth: override?.bandwidth,
                                            captionLabels: override?.captions ?? [:]))
            }
        }
        // One default per type: the one asked for, else the first.
        for kind in [Segmenter.Kind.audio, .text] {
            let indexes = planned.indices.filter { planned[$0].kind == kind }
            let asked = indexes.first { index in
                selection.overrides["\(planned[index].input):\(planned[index].info.index)"]?.isDefault == true
            }
            if let chosen = asked ?? indexes.first { planned[chosen].isDefault = true }
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

extension ClosedCaptions {
    /// The captions found, with the labels given for them (channels given but not found are
    /// not signalled): a channel with a language and no name is named after the language,
    /// with its INSTREAM-ID when another channel has the same language.
    package static func labelled(_ found: ClosedCaptions, _ given: [String: Label]) -> ClosedCaptions {
        var captions = found
        let ids = found.instreamIDs
        for id in ids {
            guard var label = given[id] else { continue }
            if label.name == nil, let language = label.language {
                let shared = ids.contains { $0 != id && given[$0]?.language == language && given[$0]?.name == nil }
                label.name = Languages.name(language).map { shared ? "\($0) (\(id))" : $0 }
            }
            // NAME is unique within the group (RFC 8216bis §4.4.6.1.1).
            if let name = label.name, captions.labels.contains(where: { $0.value.name == name }) { label.name = "\(name) (\(id))" }
            captions.labels[id] = label
        }
        return captions
    }
}
