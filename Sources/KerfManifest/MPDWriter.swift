import KerfCore
import KerfXML

/// Writes an `MPD` as XML through KerfXML, elements in the order DASH-MPD.xsd requires.
public enum MPDWriter {
    public static let namespace = "urn:mpeg:dash:schema:mpd:2011"

    public static func write(_ mpd: MPD) throws(XMLError) -> [UInt8] {
        // Protection namespaces are declared only where they are used, so clear MPDs stay as they were.
        let protections = mpd.periods.flatMap { $0.adaptationSets.flatMap(\.contentProtections) }
        var namespaces = [("", namespace)]
        if !protections.isEmpty { namespaces.append(("cenc", ContentProtectionDescriptor.cencNamespace)) }
        if protections.contains(where: { $0.playReadyObject != nil }) {
            namespaces.append(("mspr", ContentProtectionDescriptor.playReadyNamespace))
        }
        if protections.contains(where: { $0.licenseURL != nil }) { namespaces.append(("dashif", ContentProtectionDescriptor.dashIFNamespace)) }
        if mpd.periods.contains(where: { $0.eventStreams.contains { $0.events.contains { $0.scte35Binary != nil } } }) {
            namespaces.append(("scte35", EventStream.scte35Namespace))
        }
        return try XMLDocument.serialize(element(mpd), namespaces: namespaces.map { (prefix: $0.0, uri: $0.1) })
    }

    public static func element(_ mpd: MPD) -> XMLElement {
        XMLElement("MPD", [
            ("profiles", mpd.profiles.joined(separator: ",")),
            ("type", mpd.type.rawValue),
            ("availabilityStartTime", mpd.availabilityStartTime),
            ("publishTime", mpd.publishTime),
            ("mediaPresentationDuration", mpd.mediaPresentationDuration.map(duration)),
            ("minimumUpdatePeriod", mpd.minimumUpdatePeriod.map(duration)),
            ("timeShiftBufferDepth", mpd.timeShiftBufferDepth.map(duration)),
            ("suggestedPresentationDelay", mpd.suggestedPresentationDelay.map(duration)),
            ("maxSegmentDuration", mpd.maxSegmentDuration.map(duration)),
            ("minBufferTime", duration(mpd.minBufferTime)),
        ], children: serviceDescription(mpd) + mpd.periods.map(element) + mpd.utcTimings.map { descriptor("UTCTiming", $0) })
    }

    /// ServiceDescription with the target latency (before the Periods).
    static func serviceDescription(_ mpd: MPD) -> [XMLElement] {
        guard let target = mpd.targetLatency else { return [] }
        return [XMLElement("ServiceDescription", [("id", "0")], children: [
            XMLElement("Latency", [("target", String(target)), ("min", String(target / 2)), ("max", String(target * 2))]),
        ])]
    }

    static func element(_ period: Period) -> XMLElement {
        XMLElement("Period", [("id", period.id), ("start", period.start.map(duration)),
                              ("duration", period.duration.map(duration))],
                   children: period.eventStreams.map(element) + period.adaptationSets.map(element))
    }

    static func element(_ stream: EventStream) -> XMLElement {
        XMLElement("EventStream", [("schemeIdUri", stream.schemeIdUri), ("value", stream.value), ("timescale", String(stream.timescale))],
                   children: stream.events.map { event in
                       XMLElement("Event", [("presentationTime", String(event.presentationTime)), ("duration", event.duration.map(String.init)),
                                            ("id", String(event.id))],
                                  children: event.scte35Binary.map { binary in
                                      [XMLElement("scte35:Signal", children: [XMLElement("scte35:Binary", text: binary)])]
                                  } ?? [])
                   })
    }

    static func element(_ set: AdaptationSet) -> XMLElement {
        var e = XMLElement("AdaptationSet", [
            ("id", set.id.map(String.init)),
            ("contentType", set.contentType),
            ("mimeType", set.mimeType),
            ("lang", set.lang),
            ("par", set.par),
            ("maxWidth", set.maxWidth.map(String.init)),
            ("maxHeight", set.maxHeight.map(String.init)),
            ("maxFrameRate", set.maxFrameRate),
            ("segmentAlignment", set.segmentAlignment ? "true" : nil),
            ("subsegmentAlignment", set.subsegmentAlignment ? "true" : nil),
            ("startWithSAP", set.startWithSAP.map(String.init)),
            ("subsegmentStartsWithSAP", set.subsegmentStartsWithSAP.map(String.init)),
        ])
        // RepresentationBase elements first, then Accessibility, Role, SegmentTemplate, Representations.
        e.children += set.audioChannelConfigurations.map { descriptor("AudioChannelConfiguration", $0) }
        e.children += set.contentProtections.map(element)
        e.children += set.inbandEventStreams.map { descriptor("InbandEventStream", $0) }
        if let label = set.label { e.append(XMLElement("Label", text: label)) }
        e.children += set.accessibilities.map { descriptor("Accessibility", $0) }
        e.children += set.roles.map { descriptor("Role", $0) }
        if let template = set.segmentTemplate { e.append(element(template)) }
        e.children += set.representations.map(element)
        return e
    }

    static func element(_ r: Representation) -> XMLElement {
        var e = XMLElement("Representation", [
            ("id", r.id),
            ("bandwidth", String(r.bandwidth)),
            ("codecs", r.codecs),
            ("mimeType", r.mimeType),
            ("width", r.width.map(String.init)),
            ("height", r.height.map(String.init)),
            ("frameRate", r.frameRate),
            ("sar", r.sar),
            ("audioSamplingRate", r.audioSamplingRate.map(String.init)),
        ])
        e.children += r.audioChannelConfigurations.map { descriptor("AudioChannelConfiguration", $0) }
        if let reference = r.producerReference {
            e.append(XMLElement("ProducerReferenceTime", [("id", "0"), ("type", "encoder"), ("wallClockTime", reference.wallClockTime),
                                                          ("presentationTime", String(reference.presentationTime))]))
        }
        if let url = r.baseURL { e.append(XMLElement("BaseURL", text: url)) }
        if let base = r.segmentBase {
            e.append(XMLElement("SegmentBase", [("timescale", String(base.timescale)), ("indexRange", base.indexRange),
                                                ("indexRangeExact", "true")],
                                children: [XMLElement("Initialization", [("range", base.initializationRange)])]))
        }
        if let template = r.segmentTemplate { e.append(element(template)) }
        return e
    }

    static func element(_ t: SegmentTemplate) -> XMLElement {
        var e = XMLElement("SegmentTemplate", [
            ("timescale", String(t.timescale)),
            ("presentationTimeOffset", t.presentationTimeOffset.map(String.init)),
            ("duration", t.duration.map(String.init)),
            ("initialization", t.initialization),
            ("media", t.media),
            ("startNumber", t.startNumber.map(String.init)),
            ("availabilityTimeOffset", t.availabilityTimeOffset.map { String($0) }),
            ("availabilityTimeComplete", t.availabilityTimeComplete.map { $0 ? "true" : "false" }),
        ])
        if !t.timeline.isEmpty {
            e.append(XMLElement("SegmentTimeline", children: t.timeline.map { s in
                XMLElement("S", [("t", s.t.map(String.init)), ("d", String(s.d)), ("r", s.r > 0 ? String(s.r) : nil)])
            }))
        }
        return e
    }

    static func element(_ p: ContentProtectionDescriptor) -> XMLElement {
        XMLElement("ContentProtection", [("schemeIdUri", p.schemeIdUri), ("value", p.value), ("cenc:default_KID", p.defaultKID)],
                   children: [p.licenseURL.map { XMLElement("dashif:Laurl", text: $0) },
                              p.pssh.map { XMLElement("cenc:pssh", text: $0) },
                              p.playReadyObject.map { XMLElement("mspr:pro", text: $0) }].compactMap { $0 })
    }

    static func descriptor(_ name: String, _ d: Descriptor) -> XMLElement {
        XMLElement(name, [("schemeIdUri", d.schemeIdUri), ("value", d.value)])
    }

    /// xs:duration in seconds with millisecond precision: `PT6.006S`, `PT0S`.
    public static func duration(_ time: MediaTime) -> String {
        let millis = time.rescaled(to: 1000, rounding: .nearest).value
        let whole = millis / 1000, fraction = millis % 1000
        if fraction == 0 { return "PT\(whole)S" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "PT\(whole).\(digits)S"
    }
}
