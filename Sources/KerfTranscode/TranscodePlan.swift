import KerfCore

/// What happens to each stream of one input: copied, re-encoded (and why), or left out.
///
/// A pure function of the streams' metadata, the `--transcode` mode and what stream copy was
/// found unable to do, so the decisions are tested without media.
public struct TranscodePlan: Sendable, Equatable {
    /// `--transcode`.
    public enum Mode: String, Sendable, CaseIterable {
        /// Copy what can be copied, re-encode only what cannot.
        case auto
        /// Re-encode every audio and video stream.
        case always
        /// Stream copy only; fail with the reasons when it cannot.
        case never
    }

    public enum Treatment: Sendable, Equatable {
        case copy
        /// Video re-encoded to the ladder, audio to AAC; `reason` says why.
        case transcode(reason: String)
        case drop(reason: String)
    }

    /// Treatment of each track, by track index.
    public var treatments: [Int: Treatment]

    /// True when any stream is re-encoded.
    public var transcodes: Bool {
        treatments.values.contains { if case .transcode = $0 { return true } else { return false } }
    }

    /// The video track re-encoded to the ladder, if any.
    public var ladderTrack: Int? {
        treatments.keys.sorted().first { index in
            if case .transcode = treatments[index]! { return videoTracks.contains(index) }
            return false
        }
    }
    private var videoTracks: Set<Int>

    /// - Parameters:
    ///   - tracks: the input's tracks that are selected for packaging.
    ///   - ladderRequested: `--ladder` was given (a ladder is wanted even from copyable video).
    ///   - cmaf: CMAF output is written (MP3 cannot be carried, only in TS).
    ///   - videoReason: why stream copy of the video failed when it was tried (long GOPs,
    ///     keyframes misaligned across renditions), `nil` when it was not found wanting.
    public init(tracks: [TrackInfo], mode: Mode, ladderRequested: Bool, cmaf: Bool, videoReason: String? = nil) {
        let verdict = StreamCopyVerdict(tracks: tracks, gops: [:], targetSegmentDuration: 6)
        func blocking(_ track: TrackInfo) -> String? {
            let messages = verdict.findings.filter { $0.track == track.index && $0.blocking }.map(\.message)
            return messages.isEmpty ? nil : messages.joined(separator: "; ")
        }
        var treatments: [Int: Treatment] = [:]
        var ladderChosen = false
        var video: Set<Int> = []
        for track in tracks {
            switch track.mediaType {
            case .video:
                video.insert(track.index)
                let reason: String?
                switch mode {
                case .always: reason = "--transcode always"
                case .never: reason = nil
                case .auto: reason = blocking(track) ?? (ladderRequested ? "a ladder was requested (--ladder)" : videoReason)
                }
                if let reason, mode != .never {
                    if ladderChosen {
                        treatments[track.index] = .drop(reason: "only the first video stream of an input is re-encoded")
                    } else {
                        treatments[track.index] = .transcode(reason: reason)
                        ladderChosen = true
                    }
                } else {
                    treatments[track.index] = .copy
                }
            case .audio:
                switch mode {
                case .always: treatments[track.index] = .transcode(reason: "--transcode always")
                case .never: treatments[track.index] = .copy
                case .auto:
                    if let reason = blocking(track) {
                        treatments[track.index] = .transcode(reason: reason)
                    } else if track.codec == "mp3" && cmaf {
                        treatments[track.index] = .transcode(reason: "MP3 audio cannot be carried in CMAF")
                    } else {
                        treatments[track.index] = .copy
                    }
                }
            case .subtitle:
                treatments[track.index] = StreamCopyVerdict.textCodecs.contains(track.codec)
                    ? .copy : .drop(reason: "subtitle codec \(track.codec) cannot be converted to WebVTT")
            case .data, .attachment, .unknown:
                treatments[track.index] = .drop(reason: "\(track.mediaType.rawValue) streams are not packaged")
            }
        }
        // Copied video next to re-encoded video would mix timelines with different keyframes.
        if ladderChosen {
            for index in video where treatments[index] == .copy {
                treatments[index] = .drop(reason: "another video stream of the input is re-encoded")
            }
        }
        self.treatments = treatments
        self.videoTracks = video
    }
}
