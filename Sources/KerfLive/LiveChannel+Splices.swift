import KerfCore
import KerfManifest
import KerfMedia
import KerfPackager
import KerfRTMP
import KerfTranscode

extension LiveChannel {
    /// When a splice the operator asks for applies.
    package enum SpliceTime: Sendable, Equatable {
        /// At the next keyframe (after the last sample taken).
        case now
        /// At a channel time (seconds from channel time 0).
        case channel(MediaTime)
        /// At a wall-clock time (Unix seconds).
        case wallClock(Double)
    }

    /// A splice the operator asks for (`POST /api/channels/<name>/splice`).
    package struct SpliceOrder: Sendable, Equatable {
        /// A break starts (`out`) or the running one ends (`in`).
        package var returns = false
        package var id: String?
        package var duration: MediaTime?
        package var time = SpliceTime.now
        package init(returns: Bool = false, id: String? = nil, duration: MediaTime? = nil, time: SpliceTime = .now) {
            self.returns = returns
            self.id = id
            self.duration = duration
            self.time = time
        }
    }

    /// The breaks started and not ended (the operator page), oldest first.
    package var runningBreaks: [SpliceMarker] {
        splices.withLock { $0.running.values.sorted { $0.start < $1.start } }
    }

    /// A change of the packager's splice points, made on the ingest thread.
    struct SplicePointChange: Sendable {
        var add: [MediaTime]
        var remove: [MediaTime]
    }

    /// Takes an operator's splice.
    /// - Returns: the splice's id, the channel time asked for and its wall-clock time.
    /// - Throws: `LiveError` `.input` when no input is connected, `.splice` when the request
    ///   cannot be taken (an id in use, no break to end).
    package func splice(_ order: SpliceOrder) throws(LiveError) -> (id: String, time: MediaTime, date: Double) {
        let (connected, edge) = statistics.withLock { ($0.connected, $0.ingestEdge) }
        guard connected else {
            throw LiveError(.input, "the channel has no input connected", file: configuration.input)
        }
        let time: MediaTime
        switch order.time {
        case .now: time = edge ?? MediaTime(seconds: clock.now() - origin, timescale: 1000)
        case .channel(let at): time = at
        case .wallClock(let seconds): time = MediaTime(seconds: seconds - origin, timescale: 1000)
        }
        let request = LiveSplices.Request(kind: order.returns ? .in : .out, id: order.id, time: time, duration: order.duration)
        let id = try take(request).get()
        logger.info("splice asked", metadata: ["id": "\(id)", "kind": "\(order.returns ? "in" : "out")", "at": "\(time.seconds)"])
        return (id, time, origin + time.seconds)
    }

    /// Takes a request (the operator's or the input's), queueing its points for the ingest thread.
    func take(_ request: LiveSplices.Request) -> Result<String, LiveError> {
        let taken = Set(window.withLock { $0.presentation.markers.map(\.id) })
        let (result, pending) = splices.withLock { splices in
            let before = splices.pending
            let result = splices.request(request, taken: taken)
            let after = splices.pending
            return (result, after == before ? nil : after)
        }
        return result.map { accepted in
            splicePointChanges.withLock { $0.append(SplicePointChange(add: accepted.add, remove: accepted.remove)) }
            // Journaled when it changed (an input repeats its signals before the splice).
            if let pending { journal([.pendingSplices(pending)]) }
            return accepted.id
        }
    }

    /// On the ingest thread: gives the packager the points asked for since the last packet; a
    /// transcoded input codes a keyframe at each (`loopShift`: what the channel added to the
    /// input's timestamps, for a looped file).
    func applySplicePoints(to packager: LivePackager, input: any PacketSource, loopShift: MediaTime) {
        let changes = splicePointChanges.withLock { changes in
            defer { changes = [] }
            return changes
        }
        for change in changes {
            for point in change.remove { packager.removeSplicePoint(point) }
            for point in change.add {
                packager.addSplicePoint(point)
                if let transcoder = input as? TranscodingSource, let at = packager.inputTime(ofChannelTime: point) {
                    transcoder.forceKeyframe(at: at - loopShift)
                }
            }
        }
    }

    /// A transcoded input opened again (a looped file's next pass): the splices not cut yet get
    /// their keyframes from its encoders too.
    func forceSpliceKeyframes(in input: any PacketSource, packager: LivePackager, loopShift: MediaTime) {
        guard let transcoder = input as? TranscodingSource else { return }
        for point in splices.withLock({ $0.points }) {
            if let at = packager.inputTime(ofChannelTime: point) { transcoder.forceKeyframe(at: at - loopShift) }
        }
    }

    /// The reference track cut at `boundary`: the splices it starts or ends are listed (and
    /// journaled), and with `dash-events: inband` go into the segments as emsg; a cut that
    /// moved from the time asked is logged with the shift.
    func spliceCut(at boundary: MediaTime, packager: LivePackager) {
        let slack = packager.spliceSlack
        let (announced, pending) = splices.withLock { ($0.cut(at: boundary, slack: slack), $0.pending) }
        guard !announced.isEmpty else { return }
        // Within a frame of the time asked is on the picture there; further is a later keyframe.
        let frame = MediaTime(value: slack.value * 2, timescale: slack.timescale)
        for announcement in announced {
            let marker = announcement.marker
            if marker.kind == .break, announcement.shift >= frame {
                let what = announcement.isEnd ? "return" : "out"
                logger.notice("splice \(marker.id): no keyframe at the \(what) asked; cut at the next one",
                              metadata: ["asked": "\((boundary - announcement.shift).seconds)", "cut": "\(boundary.seconds)",
                                         "shift": "\(announcement.shift.seconds)"])
            } else {
                logger.info("splice \(marker.id) cut", metadata: ["at": "\(boundary.seconds)", "end": "\(announcement.isEnd)"])
            }
            window.withLock { _ = $0.receive(.splice(marker)) }
            if configuration.dashEvents.contains(.inband), let message = Self.eventMessage(announcement, at: boundary, slack: slack) {
                packager.addEventMessage(message)
            }
        }
        journal(announced.map { .splice($0.marker) } + [.pendingSplices(pending)])
    }

    /// The emsg of a splice just cut (SCTE 214-3): a break's out and its return in the segment
    /// starting at the cut, a command in the next fragment (at the cut: it is announced at the
    /// boundary after it). Ids come from the marker's DATERANGE ID (unique in the channel: a
    /// looped input signals the same event id on every pass, and a client takes two emsg of one
    /// scheme and id for one event).
    static func eventMessage(_ announcement: LiveSplices.Announcement, at boundary: MediaTime, slack: MediaTime) -> EventMessage? {
        let marker = announcement.marker
        switch (marker.kind, announcement.isEnd) {
        case (.break, false):
            return .splice(time: boundary, duration: marker.plannedDuration, id: EventMessage.identifier(marker.id), section: marker.section,
                           tolerance: slack)
        case (.break, true):
            return marker.returnSection.map {
                .splice(time: boundary, duration: nil, id: EventMessage.identifier(marker.id + "/in"), section: $0, tolerance: slack)
            }
        case (.command, _):
            return EventMessage(scheme: EventMessage.scte35Scheme, time: boundary, duration: marker.plannedDuration,
                                id: EventMessage.identifier(marker.id), data: marker.section)
        }
    }

    /// An SCTE-35 section read from the input (a packet of its `scte_35` stream), timed on the
    /// channel timeline: a splice_insert or a time_signal with a segmentation descriptor becomes
    /// a request (out, in, cancel or a listed signal); splice_null and unreadable sections are
    /// left out (the latter logged).
    /// - Parameters:
    ///   - arrival: the packet's time on the input timeline (as the packager is fed), or the last
    ///     video packet's when it has none.
    ///   - loopShift: what the channel added to the input's timestamps (a looped file): the
    ///     section's own times are shifted alike.
    func signalled(_ bytes: [UInt8], arrival: MediaTime, loopShift: MediaTime, packager: LivePackager) {
        let section: SpliceInfoSection
        do { section = try SpliceInfoSection.parse(bytes) } catch {
            logger.warning("SCTE-35 section unreadable; left out", metadata: ["reason": "\(error.reason)"])
            return
        }
        guard section.command != .null else { return }
        var inputTime = arrival
        if let ticks = section.spliceTime {
            let unshifted = arrival - loopShift
            inputTime = SpliceInfoSection.unwrapped(ticks, near: unshifted) + loopShift
        }
        guard let time = packager.channelTime(ofInputTime: inputTime) else { return }
        let kind: LiveSplices.Request.Kind
        switch section.signal {
        case .out: kind = .out
        case .in: kind = .in
        case .cancel: kind = .cancel
        case .other: kind = .command
        }
        let request = LiveSplices.Request(kind: kind, eventID: section.eventID, time: time,
                                          duration: kind == .out ? section.duration.map(SpliceInfoSection.mediaTime) : nil, section: bytes)
        switch take(request) {
        case .success(let id): logger.info("SCTE-35 \(kind) signalled", metadata: ["id": "\(id)", "at": "\(time.seconds)"])
        case .failure(let error): logger.notice("SCTE-35 signal left out", metadata: ["reason": "\(error.message)"])
        }
    }

    /// A publisher's splice cue (`onCuePoint`), timed on the stream's timeline like its tags.
    func signalled(_ cue: RTMPCuePoint, packager: LivePackager) {
        guard let time = packager.channelTime(ofInputTime: cue.time) else { return }
        let request = LiveSplices.Request(kind: cue.kind == .out ? .out : .in, id: cue.id, time: time, duration: cue.duration)
        switch take(request) {
        case .success(let id): logger.info("RTMP cue point", metadata: ["id": "\(id)", "at": "\(time.seconds)"])
        case .failure(let error): logger.notice("RTMP cue point left out", metadata: ["reason": "\(error.message)"])
        }
    }
}
