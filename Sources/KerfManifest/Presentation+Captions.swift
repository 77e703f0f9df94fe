import KerfCore

/// Closed captions carried in the video (CEA-608/708 in SEI), signalled as HLS
/// `CLOSED-CAPTIONS` renditions (RFC 8216bis §4.4.6.1–2) and DASH `Accessibility` descriptors
/// (SCTE 214-1 §6.7.2, DASH-IF IOP): the captions stay in the video samples.
extension Presentation {
    /// The CLOSED-CAPTIONS groups of a multivariant playlist's video renditions: one group per
    /// distinct set of channels ("cc", "cc2"…), its renditions, and each video's group.
    /// `CLOSED-CAPTIONS=NONE` is only possible when every video rendition was read for
    /// captions and none has any (the attribute then says so on every variant).
    struct CaptionSignalling {
        var renditions: [Rendition] = []
        /// The CLOSED-CAPTIONS value of each video rendition's variants, by rendition id.
        var attribute: [String: String] = [:]
    }

    static func captionSignalling(_ videos: [RenditionDescription]) -> CaptionSignalling {
        var signalling = CaptionSignalling()
        guard !videos.isEmpty else { return signalling }
        if videos.allSatisfy({ $0.captions?.isEmpty == true }) {
            for video in videos { signalling.attribute[video.id] = "NONE" }
            return signalling
        }
        var groups: [(id: String, captions: ClosedCaptions)] = []
        for video in videos {
            guard let captions = video.captions, !captions.isEmpty else { continue }
            let key = captions.instreamIDs
            let groupID: String
            if let group = groups.first(where: { $0.captions.instreamIDs == key }) {
                groupID = group.id
            } else {
                groupID = groups.isEmpty ? "cc" : "cc\(groups.count + 1)"
                groups.append((groupID, captions))
                for (index, instreamID) in key.enumerated() {
                    var r = Rendition(type: .closedCaptions, groupID: groupID, name: captions.name(of: instreamID), uri: nil)
                    r.language = captions.labels[instreamID]?.language ?? video.language
                    r.isDefault = index == 0
                    r.autoselect = true
                    r.instreamID = instreamID
                    signalling.renditions.append(r)
                }
            }
            signalling.attribute[video.id] = groupID
        }
        return signalling
    }

    /// The Accessibility descriptors of a video AdaptationSet whose Representations carry
    /// `captions`: `urn:scte:dash:cc:cea-608:2015` with "CC1=eng;CC3=spa" and
    /// `urn:scte:dash:cc:cea-708:2015` with "1=lang:eng"; a channel without a language is
    /// listed as "und" (the value pairs a channel with a language).
    static func accessibility(_ captions: ClosedCaptions?, language fallback: String?) -> [Descriptor] {
        guard let captions, !captions.isEmpty else { return [] }
        func language(_ instreamID: String) -> String { captions.labels[instreamID]?.language ?? fallback ?? "und" }
        var descriptors: [Descriptor] = []
        if !captions.cea608.isEmpty {
            let value = captions.cea608.map { "CC\($0)=\(language("CC\($0)"))" }.joined(separator: ";")
            descriptors.append(Descriptor(schemeIdUri: "urn:scte:dash:cc:cea-608:2015", value: value))
        }
        if !captions.cea708.isEmpty {
            let value = captions.cea708.map { "\($0)=lang:\(language("SERVICE\($0)"))" }.joined(separator: ";")
            descriptors.append(Descriptor(schemeIdUri: "urn:scte:dash:cc:cea-708:2015", value: value))
        }
        return descriptors
    }
}
