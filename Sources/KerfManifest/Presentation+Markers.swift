import KerfCore

extension Presentation {
    /// How far a segment may start from a marker's time and still be the segment at it: audio
    /// and text cut on their own frame boundaries, up to half a frame from the video's.
    static let markerTolerance = MediaTime(value: 50, timescale: 1000)

    /// Adds the splice markers to a media playlist's segments: EXT-X-PROGRAM-DATE-TIME on every
    /// segment; EXT-X-DATERANGE (ID, START-DATE, DURATION once the end is known,
    /// PLANNED-DURATION, SCTE35-OUT or SCTE35-CMD) before the segment that starts at a marker,
    /// and again with SCTE35-IN before the one that starts at a break's signalled return; with
    /// `.cue` in the listing's ad markers, EXT-X-CUE-OUT / -CONT / -IN. A break whose start has
    /// left a live window is announced on the first listed segment it still covers.
    func addMarkers(to segments: inout [MediaSegment], listed: ArraySlice<Segment>, listing: Listing) {
        guard !markers.isEmpty, segments.count == listed.count, !segments.isEmpty else { return }
        let origin = listing.dateOrigin
        let starts = listed.map(\.start)
        let tolerance = Self.markerTolerance
        for index in segments.indices { segments[index].programDateTime = UTCTime.xsDateTime(origin + starts[index].seconds) }
        func segment(at time: MediaTime) -> Int? { starts.firstIndex { $0 + tolerance >= time } }
        for marker in markers {
            guard let first = segment(at: marker.start) else { continue }
            let exact = starts[first] < marker.start + tolerance
            if marker.kind == .command && !exact { continue }
            if !exact {
                // Only a break still running at the window's first segment is announced there.
                guard first == 0, marker.end.map({ starts[0] + tolerance < $0 }) ?? true else { continue }
            }
            let date = UTCTime.xsDateTime(origin + marker.start.seconds)
            if listing.adMarkers.contains(.dateRange) {
                var range = HLSDateRange(id: marker.id, startDate: date, duration: marker.duration, plannedDuration: marker.plannedDuration)
                if marker.kind == .break { range.scte35Out = HLSDateRange.hex(marker.section) } else { range.scte35Cmd = HLSDateRange.hex(marker.section) }
                segments[first].dateRanges.append(range)
            }
            guard marker.kind == .break else { continue }
            let returning = marker.end.flatMap(segment(at:))
            if listing.adMarkers.contains(.dateRange), let returning, let section = marker.returnSection {
                segments[returning].dateRanges.append(HLSDateRange(id: marker.id, startDate: date, duration: marker.duration,
                                                                   scte35In: HLSDateRange.hex(section)))
            }
            guard listing.adMarkers.contains(.cue) else { continue }
            let duration = marker.duration ?? marker.plannedDuration
            segments[first].cueTag = .out(duration: duration)
            for index in (first + 1)..<(returning ?? segments.count) {
                segments[index].cueTag = .outContinued(elapsed: starts[index] - marker.start, duration: duration)
            }
            if let returning { segments[returning].cueTag = .in }
        }
    }

    /// LL-HLS: the EXT-X-DATERANGE of the breaks that start or end where the segment being
    /// written starts, once it has a part, so players see a splice with its first part.
    func trailingDateRanges(_ track: Track, _ listing: Listing) -> [HLSDateRange] {
        let current = inProgress(track)
        guard listing.adMarkers.contains(.dateRange), let start = current.start, !current.parts.isEmpty else { return [] }
        let tolerance = Self.markerTolerance
        func at(_ time: MediaTime) -> Bool { time < start + tolerance && start < time + tolerance }
        var ranges: [HLSDateRange] = []
        for marker in markers where marker.kind == .break {
            let date = UTCTime.xsDateTime(listing.dateOrigin + marker.start.seconds)
            if at(marker.start) {
                ranges.append(HLSDateRange(id: marker.id, startDate: date, duration: marker.duration, plannedDuration: marker.plannedDuration,
                                           scte35Out: HLSDateRange.hex(marker.section)))
            } else if let end = marker.end, at(end), let section = marker.returnSection {
                ranges.append(HLSDateRange(id: marker.id, startDate: date, duration: marker.duration, scte35In: HLSDateRange.hex(section)))
            }
        }
        return ranges
    }

    /// Forgets the markers a live window no longer lists: those ending (a command: starting)
    /// before `time`. A break whose end is not known yet stays.
    public mutating func removeMarkers(endingBefore time: MediaTime) {
        let forgotten = markers.filter { marker in
            switch marker.kind {
            case .command: return marker.start < time
            case .break: return marker.end.map { $0 <= time } ?? false
            }
        }
        guard !forgotten.isEmpty else { return }
        markers.removeAll { forgotten.contains($0) }
        if let latest = forgotten.map({ $0.end ?? $0.start }).max() {
            forgottenSplit = max(forgottenSplit ?? latest, latest)
        }
    }

    /// The SCTE-35 EventStream of a Period from `start` to `end` (nil: to the end): one Event
    /// per marker starting in it, times in 90 kHz ticks from the Period start. Nil when none.
    func eventStream(from start: MediaTime, to end: MediaTime?) -> EventStream? {
        let tolerance = Self.markerTolerance
        let inPeriod = markers.filter { marker in
            marker.start + tolerance >= start && (end.map { marker.start + tolerance < $0 } ?? true)
        }
        guard !inPeriod.isEmpty else { return nil }
        let rate = SpliceInfoSection.clockRate
        // Event@id is the splice event id, made unique in the stream where two signals share one.
        var used: Set<UInt32> = []
        return EventStream(schemeIdUri: EventStream.scte35Scheme, timescale: rate, events: inPeriod.map { marker in
            var id = marker.eventID
            while used.contains(id) { id &+= 1 }
            used.insert(id)
            return EventStream.Event(presentationTime: max(0, (marker.start - start).rescaled(to: rate).value),
                                     duration: (marker.duration ?? marker.plannedDuration)?.rescaled(to: rate).value,
                                     id: id, scte35Binary: Base64.encode(marker.section))
        })
    }
}
