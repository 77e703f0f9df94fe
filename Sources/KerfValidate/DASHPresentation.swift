import KerfCore
import KerfManifest
import KerfXML

/// Every Representation of an MPD with its segments resolved: BaseURLs applied, segment
/// information inherited from Period and AdaptationSet, templates expanded (ISO/IEC 23009-1
/// §5.3.9, §5.6).
struct DASHPresentation {
    struct Segment: Equatable {
        /// $Number$ (or the 1-based position in a SegmentList).
        var number: Int64
        /// Start and duration in `timescale` units; the start includes presentationTimeOffset.
        var time: Int64
        var duration: Int64
        /// The address of a SegmentList or SegmentBase segment; template segments get theirs
        /// from `Representation.url(of:)` when needed (expanding 100,000 templates is not free).
        var explicitURL: String?
        var range: ByteRange?
    }

    /// A ContentProtection descriptor (§5.8.4.1) of a Representation or its AdaptationSet.
    struct ContentProtection {
        var schemeIdUri: String
        var value: String?
        /// `cenc:default_KID` as written (a UUID).
        var defaultKID: String?

        var isMP4Protection: Bool { schemeIdUri.lowercased() == "urn:mpeg:dash:mp4protection:2011" }
        /// The scheme's four-character code in an mp4protection @value ("cbcs" of "cbcs:00010000").
        var scheme: String? { value.map { String($0.prefix { $0 != ":" }) } }

        init(_ element: XMLElement) {
            schemeIdUri = element.attribute("schemeIdUri") ?? ""
            value = element.attribute("value")
            defaultKID = element.attributes.first { $0.name == "default_KID" || $0.name.hasSuffix(":default_KID") }?.value
        }
    }

    struct Representation {
        /// XPath of the Representation element.
        var path: String
        var id: String
        var adaptationSet: Int
        var periodID: String?
        /// Period start and duration in seconds (duration nil when open-ended).
        var periodStart: Double
        var periodDuration: Double?
        var contentType: String
        var mimeType: String?
        var codecs: String?
        var bandwidth: Int?
        var width: Int?
        var height: Int?
        var startWithSAP: Int?
        var segmentAlignment: Bool
        var timescale: Int64 = 1
        var presentationTimeOffset: Int64 = 0
        /// The SegmentTimeline's first S has no @t, so it starts at media time 0 (§5.3.9.6).
        var firstTimeImplied = false
        var initialization: String?
        var initializationRange: ByteRange?
        var segments: [Segment] = []
        /// Whether the segments come from a SegmentTimeline, a template duration, a list or
        /// SegmentBase (one indexed segment).
        var addressing: Addressing = .none
        /// SegmentTemplate@media and the BaseURL it resolves against.
        var mediaTemplate: String?
        var base = ""
        /// ContentProtection descriptors of the AdaptationSet, then of the Representation.
        var contentProtections: [ContentProtection] = []
        /// InbandEventStream schemes (@schemeIdUri) of the AdaptationSet and the Representation.
        var inbandEventSchemes: Set<String> = []

        /// Where `segment` is fetched from.
        func url(of segment: Segment) -> String {
            if let explicit = segment.explicitURL { return explicit }
            let path = DASHPresentation.expand(mediaTemplate ?? "", id: id, number: segment.number, time: segment.time, bandwidth: bandwidth)
            return ResourceLoader.resolve(path, against: base)
        }

        /// Subtitles or captions: text/* or application/ttml+xml, a text contentType, stpp or wvtt.
        var isText: Bool {
            contentType == "text" || (mimeType ?? "").hasPrefix("text/") || mimeType == "application/ttml+xml"
                || (codecs ?? "").hasPrefix("stpp") || (codecs ?? "").hasPrefix("wvtt")
        }

        /// Start of `segment` on the media presentation timeline, in seconds.
        func start(_ segment: Segment) -> Double {
            periodStart + Double(segment.time - presentationTimeOffset) / Double(timescale)
        }
    }

    enum Addressing: String { case timeline, duration, list, base, none }

    /// Expansion stops after this many segments per Representation, and after `maxTotalSegments`
    /// in the whole MPD (hostile `@r` and `@duration` values).
    static let maxSegments = 200_000
    static let maxTotalSegments = 500_000
    /// Segments still allowed in this MPD.
    private var budget = DASHPresentation.maxTotalSegments

    var type: String
    var availabilityStartTime: Double?
    var publishTime: Double?
    var timeShiftBufferDepth: Double?
    var representations: [Representation] = []

    /// - Parameters:
    ///   - location: where the MPD was read from (BaseURLs resolve against it).
    ///   - now: wall-clock seconds since 1970 for a dynamic MPD's open-ended segment lists.
    init(_ mpd: XMLElement, location: String, now: Double? = nil) {
        type = mpd.attribute("type") ?? "static"
        availabilityStartTime = mpd.attribute("availabilityStartTime").flatMap(UTCTime.parseXSDateTime)
        publishTime = mpd.attribute("publishTime").flatMap(UTCTime.parseXSDateTime)
        timeShiftBufferDepth = mpd.attribute("timeShiftBufferDepth").flatMap(XSTime.duration)
        let mpdBase = Self.base(mpd, location)
        let periods = mpd.children(named: "Period")
        let presentationDuration = mpd.attribute("mediaPresentationDuration").flatMap(XSTime.duration)
        var previousEnd: Double? = 0
        for (p, period) in periods.enumerated() {
            let start = period.attribute("start").flatMap(XSTime.duration) ?? previousEnd ?? 0
            var duration = period.attribute("duration").flatMap(XSTime.duration)
            if duration == nil {
                if p + 1 < periods.count, let next = periods[p + 1].attribute("start").flatMap(XSTime.duration) {
                    duration = next - start
                } else if p + 1 == periods.count, let presentationDuration {
                    duration = presentationDuration - start
                }
            }
            previousEnd = duration.map { start + $0 }
            let periodBase = Self.base(period, mpdBase)
            for (a, set) in period.children(named: "AdaptationSet").enumerated() {
                let setBase = Self.base(set, periodBase)
                for (r, element) in set.children(named: "Representation").enumerated() {
                    let mimeType = element.attribute("mimeType") ?? set.attribute("mimeType")
                    var representation = Representation(
                        path: "/MPD/Period[\(p + 1)]/AdaptationSet[\(a + 1)]/Representation[\(r + 1)]",
                        id: element.attribute("id") ?? "", adaptationSet: a, periodID: period.attribute("id"),
                        periodStart: start, periodDuration: duration,
                        contentType: set.attribute("contentType") ?? mimeType.map { String($0.prefix { $0 != "/" }) } ?? "",
                        mimeType: mimeType, codecs: element.attribute("codecs") ?? set.attribute("codecs"),
                        bandwidth: element.attribute("bandwidth").flatMap { Int($0) },
                        width: (element.attribute("width") ?? set.attribute("width")).flatMap { Int($0) },
                        height: (element.attribute("height") ?? set.attribute("height")).flatMap { Int($0) },
                        startWithSAP: (element.attribute("startWithSAP") ?? set.attribute("startWithSAP")).flatMap { Int($0) },
                        segmentAlignment: set.attribute("segmentAlignment") == "true")
                    representation.contentProtections = (set.children(named: "ContentProtection")
                        + element.children(named: "ContentProtection")).map(ContentProtection.init)
                    representation.inbandEventSchemes = Set((set.children(named: "InbandEventStream")
                        + element.children(named: "InbandEventStream")).compactMap { $0.attribute("schemeIdUri") })
                    let base = Self.base(element, setBase)
                    let levels = [period, set, element]
                    if let template = Self.merged("SegmentTemplate", levels) {
                        resolveTemplate(template, into: &representation, base: base, now: now)
                    } else if let list = Self.merged("SegmentList", levels) {
                        resolveList(list, into: &representation, base: base)
                    } else {
                        let segmentBase = Self.merged("SegmentBase", levels)
                        representation.addressing = segmentBase == nil ? .none : .base
                        representation.timescale = segmentBase?.attribute("timescale").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 1
                        if let initialization = segmentBase?.children(named: "Initialization").first {
                            representation.initializationRange = initialization.attribute("range").flatMap(Self.range)
                            representation.initialization = initialization.attribute("sourceURL").map { ResourceLoader.resolve($0, against: base) }
                                ?? (representation.initializationRange == nil ? nil : base)
                        }
                        let ticks = Self.ticks(duration ?? 0, representation.timescale) ?? 0
                        representation.segments = [Segment(number: 1, time: 0, duration: ticks, explicitURL: base, range: nil)]
                    }
                    budget -= representation.segments.count
                    representations.append(representation)
                }
            }
        }
    }

    /// The BaseURL of `element` resolved against `parent` (or `parent` when it has none).
    static func base(_ element: XMLElement, _ parent: String) -> String {
        guard let text = element.children(named: "BaseURL").first?.text?.trimming(while: { $0 == " " || $0 == "\n" || $0 == "\t" }),
              !text.isEmpty else { return parent }
        return ResourceLoader.resolve(String(text), against: parent)
    }

    /// One segment-information element with attributes inherited from the levels above
    /// (§5.3.9.1): the lowest level wins, child elements come from the lowest level that has them.
    static func merged(_ name: String, _ levels: [XMLElement]) -> XMLElement? {
        var result: XMLElement?
        for level in levels {
            guard let element = level.children(named: name).first else { continue }
            guard var merged = result else { result = element; continue }
            for (key, value) in element.attributes { merged.set(key, value) }
            for child in Set(element.children.map(\.localName)) {
                merged.children.removeAll { $0.localName == child }
            }
            merged.children += element.children
            result = merged
        }
        return result
    }

    /// `seconds` in `timescale` units, nil when that does not fit in 64 bits (hostile durations).
    static func ticks(_ seconds: Double, _ timescale: Int64) -> Int64? {
        let value = (seconds * Double(timescale)).rounded()
        guard value.isFinite, abs(value) < 9.0e18 else { return nil }
        return Int64(value)
    }

    /// A non-negative integer attribute (xs:unsignedLong / unsignedInt values that fit Int64).
    static func unsigned(_ text: String?) -> Int64? {
        text.flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// "first-last" (§5.3.9.2 byte ranges).
    static func range(_ text: String) -> ByteRange? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let first = Int(parts[0]), let last = Int(parts[1]), last >= first, last < Int.max else { return nil }
        return ByteRange(length: last - first + 1, offset: first)
    }

    /// `$RepresentationID$`, `$Number$`, `$Time$`, `$Bandwidth$` with `%0Nd` widths, `$$` (§5.3.9.4.4).
    static func expand(_ template: String, id: String, number: Int64?, time: Int64?, bandwidth: Int?) -> String {
        var out = "", index = template.startIndex
        while index < template.endIndex {
            guard template[index] == "$", let close = template[template.index(after: index)...].firstIndex(of: "$") else {
                out.append(template[index])
                index = template.index(after: index)
                continue
            }
            let name = template[template.index(after: index)..<close]
            index = template.index(after: close)
            if name.isEmpty { out.append("$"); continue }
            let parts = name.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let value: String?
            switch parts.first ?? "" {
            case "RepresentationID": value = id
            case "Number": value = number.map(String.init)
            case "Time": value = time.map(String.init)
            case "Bandwidth": value = bandwidth.map(String.init)
            default: value = nil
            }
            guard var value else { out += "$\(name)$"; continue }
            if parts.count == 2, parts[1].hasPrefix("0"), parts[1].hasSuffix("d"), let width = Int(parts[1].dropFirst().dropLast()),
               width <= 32, value.count < width {
                value = String(repeating: "0", count: width - value.count) + value
            }
            out += value
        }
        return out
    }

    private mutating func resolveTemplate(_ template: XMLElement, into representation: inout Representation, base: String, now: Double?) {
        let timescale = template.attribute("timescale").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 1
        representation.timescale = timescale
        representation.presentationTimeOffset = Self.unsigned(template.attribute("presentationTimeOffset")) ?? 0
        let startNumber = Self.unsigned(template.attribute("startNumber")) ?? 1
        let media = template.attribute("media") ?? ""
        if let initialization = template.attribute("initialization") {
            representation.initialization = ResourceLoader.resolve(
                Self.expand(initialization, id: representation.id, number: nil, time: nil, bandwidth: representation.bandwidth), against: base)
        }
        representation.mediaTemplate = media
        representation.base = base
        // The end of what can be listed: the Period's end, or for a live MPD the wall clock.
        let periodEndTicks: Int64? = {
            let offset = representation.presentationTimeOffset
            var span: Int64?
            if let duration = representation.periodDuration {
                span = Self.ticks(duration, timescale)
            } else if let now, let start = availabilityStartTime {
                span = Self.ticks(now - start - representation.periodStart, timescale)
            }
            guard let span, !offset.addingReportingOverflow(span).overflow else { return nil }
            return offset + span
        }()
        if let timeline = template.children(named: "SegmentTimeline").first {
            representation.addressing = .timeline
            let entries = timeline.children(named: "S")
            representation.firstTimeImplied = entries.first?.attribute("t") == nil
            var time: Int64 = 0, number = startNumber
            for (index, s) in entries.enumerated() {
                guard let d = Self.unsigned(s.attribute("d")), d > 0 else { return }
                if let t = s.attribute("t") {
                    guard let value = Self.unsigned(t) else { return }
                    time = value
                }
                var repeats = s.attribute("r").flatMap { Int64($0) } ?? 0
                if repeats < 0 {
                    let end = index + 1 < entries.count ? Self.unsigned(entries[index + 1].attribute("t")) : periodEndTicks
                    guard let end, end > time else { return }
                    repeats = Int64(min(Double(Self.maxSegments), ((Double(end) - Double(time)) / Double(d)).rounded(.up))) - 1
                }
                for _ in 0...max(0, repeats) {
                    guard representation.segments.count < min(Self.maxSegments, budget) else { return }
                    representation.segments.append(Segment(number: number, time: time, duration: d))
                    let (next, overflow) = time.addingReportingOverflow(d)
                    guard !overflow, number < Int64.max else { return }
                    time = next
                    number += 1
                }
            }
        } else if let d = Self.unsigned(template.attribute("duration")), d > 0 {
            representation.addressing = .duration
            var time = representation.presentationTimeOffset, number = startNumber
            // Live: only segments complete by now and still inside the time-shift buffer.
            var end = periodEndTicks
            if type == "dynamic", representation.periodDuration == nil, let liveEdge = periodEndTicks {
                let (last, overflow) = liveEdge.subtractingReportingOverflow(d - 1)
                end = overflow ? nil : last
                if let depth = timeShiftBufferDepth, let window = Self.ticks(depth, timescale),
                   case let (oldest, o1) = liveEdge.subtractingReportingOverflow(window), !o1, oldest > time {
                    let skipped = (oldest - time) / d
                    let (advanced, o2) = time.addingReportingOverflow(skipped * d)
                    let (renumbered, o3) = number.addingReportingOverflow(skipped)
                    if !o2, !o3 { time = advanced; number = renumbered }
                }
            }
            while representation.segments.count < min(Self.maxSegments, budget), let end, time < end {
                representation.segments.append(Segment(number: number, time: time, duration: d))
                let (next, overflow) = time.addingReportingOverflow(d)
                guard !overflow, number < Int64.max else { break }
                time = next
                number += 1
            }
        }
    }

    private mutating func resolveList(_ list: XMLElement, into representation: inout Representation, base: String) {
        representation.addressing = .list
        let timescale = list.attribute("timescale").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 1
        representation.timescale = timescale
        representation.presentationTimeOffset = Self.unsigned(list.attribute("presentationTimeOffset")) ?? 0
        if let initialization = list.children(named: "Initialization").first {
            representation.initializationRange = initialization.attribute("range").flatMap(Self.range)
            representation.initialization = ResourceLoader.resolve(initialization.attribute("sourceURL") ?? "", against: base)
        }
        let d = Self.unsigned(list.attribute("duration")) ?? 0
        var time = representation.presentationTimeOffset
        for (index, item) in list.children(named: "SegmentURL").prefix(min(Self.maxSegments, budget)).enumerated() {
            let url = item.attribute("media").map { ResourceLoader.resolve($0, against: base) } ?? base
            representation.segments.append(Segment(number: Int64(index + 1), time: time, duration: d, explicitURL: url,
                                                   range: item.attribute("mediaRange").flatMap(Self.range)))
            let (next, overflow) = time.addingReportingOverflow(d)
            guard !overflow else { break }
            time = next
        }
    }
}
