import KerfCore

/// A live channel's splices between being asked for (the operator API, SCTE-35 in the input) and
/// being listed: each break's out and return wait for the segment boundary that cuts at them (the
/// first reference keyframe at or after the asked time), then become a `SpliceMarker` whose start
/// (and, once the return is cut, end) is that boundary. A value type, changed on the ingest thread
/// only; what it announces goes to the window (`SegmentEvent.splice`) and the journal.
package struct LiveSplices: Sendable {
    /// What is asked for, on the channel timeline.
    package struct Request: Sendable, Equatable, Codable {
        package enum Kind: String, Sendable, Equatable, Codable {
            /// A break starts; with a duration it returns by itself then.
            case out
            /// The break with `id` (else the latest one) returns.
            case `in`
            /// The break or signal with `eventID` is cancelled.
            case cancel
            /// A signal that is not a break (listed, no cut).
            case command
        }

        package var kind: Kind
        package var id: String?
        package var eventID: UInt32?
        /// The channel time asked for.
        package var time: MediaTime
        package var duration: MediaTime?
        /// The SCTE-35 section that signalled it; nil: a splice_insert is encoded at the cut.
        package var section: [UInt8]?

        package init(kind: Kind, id: String? = nil, eventID: UInt32? = nil, time: MediaTime, duration: MediaTime? = nil,
                     section: [UInt8]? = nil) {
            self.kind = kind
            self.id = id
            self.eventID = eventID
            self.time = time
            self.duration = duration
            self.section = section
        }
    }

    /// What a request changes in the packager's splice points.
    package struct Accepted: Sendable, Equatable {
        package var id: String
        package var add: [MediaTime] = []
        package var remove: [MediaTime] = []
    }

    /// A marker to list (new, or again with its end), and how far its cut moved from the time asked.
    package struct Announcement: Sendable, Equatable {
        package var marker: SpliceMarker
        package var shift: MediaTime
        /// The break's return was cut (else its start, or a command).
        package var isEnd: Bool
    }

    private struct Out: Sendable {
        var marker: SpliceMarker
        /// The section is encoded at the cut (the operator's splices).
        var encodes: Bool
    }

    private struct Return: Sendable {
        var id: String
        var point: MediaTime
        var section: [UInt8]?
    }

    /// Outs asked for, not cut yet.
    private var outs: [Out] = []
    private var returns: [Return] = []
    private var commands: [SpliceMarker] = []
    /// Breaks cut whose return is not, by id.
    package private(set) var running: [String: SpliceMarker] = [:]
    /// The last boundary cut.
    private var lastBoundary: MediaTime?
    /// The splice event id given to the next break asked for without one.
    private var nextEventID: UInt32

    /// - Parameters:
    ///   - firstEventID: the event id of the first break asked for without one (a channel starts
    ///     from its clock, so a restarted channel does not reuse the ids it listed).
    ///   - open: breaks listed without an end (a restored window's): their planned return is
    ///     scheduled again.
    package init(firstEventID: UInt32, open: [SpliceMarker] = []) {
        nextEventID = firstEventID
        for marker in open where marker.kind == .break && marker.end == nil {
            running[marker.id] = marker
            if let planned = marker.plannedDuration {
                returns.append(Return(id: marker.id, point: marker.signalledStart + planned))
            }
        }
    }

    /// Every point still to cut at, for a new epoch's packager.
    package var points: [MediaTime] {
        (outs.map(\.marker.signalledStart) + returns.map(\.point)).sorted()
    }

    /// What is asked for and not cut yet, as requests that give it again (journaled, so a
    /// restarted channel still cuts them): each out and signal with its id and event id, and
    /// each return asked for at another time than the out's duration says.
    package var pending: [Request] {
        var requests = outs.map { out in
            Request(kind: .out, id: out.marker.id, eventID: out.marker.eventID, time: out.marker.signalledStart,
                    duration: out.marker.plannedDuration, section: out.encodes ? nil : out.marker.section)
        }
        requests += commands.map {
            Request(kind: .command, id: $0.id, eventID: $0.eventID, time: $0.signalledStart, duration: $0.plannedDuration, section: $0.section)
        }
        for back in returns {
            let planned = (outs.first { $0.marker.id == back.id }?.marker ?? running[back.id]).flatMap { marker in
                marker.plannedDuration.map { marker.signalledStart + $0 }
            }
            if planned != back.point || back.section != nil {
                requests.append(Request(kind: .in, id: back.id, time: back.point, section: back.section))
            }
        }
        return requests
    }

    /// The ids in use: running breaks and those asked for.
    package var ids: Set<String> { Set(running.keys).union(outs.map(\.marker.id)).union(commands.map(\.id)) }

    /// Takes a request.
    /// - Parameter taken: ids the window lists (an id is unique in the presentation).
    /// - Returns: the splice's id and the points to add to (or remove from) the packager, or
    ///   why it is refused (one line).
    package mutating func request(_ request: Request, taken: Set<String> = []) -> Result<Accepted, LiveError> {
        switch request.kind {
        case .out, .command:
            if let duration = request.duration, duration.value <= 0 { return .failure(LiveError(.splice, "the duration must be positive")) }
            // A signal repeated before its splice (or while its break runs) is the same splice.
            if request.section != nil, let eventID = request.eventID,
               let known = outs.first(where: { $0.marker.eventID == eventID })?.marker ?? running.values.first(where: { $0.eventID == eventID })
                ?? commands.first(where: { $0.eventID == eventID && $0.section == request.section }) {
                return .success(Accepted(id: known.id))
            }
            let eventID = request.eventID ?? request.id.flatMap { UInt32($0) } ?? takeEventID()
            let prefix = request.kind == .out ? "splice" : "signal"
            var id = request.id ?? "\(prefix)-\(eventID)"
            if request.id != nil, taken.contains(id) || ids.contains(id) { return .failure(LiveError(.splice, "the id \(id) is in use")) }
            var n = 2
            while taken.contains(id) || ids.contains(id) { id = "\(prefix)-\(eventID)-\(n)"; n += 1 }
            let marker = SpliceMarker(id: id, eventID: eventID, kind: request.kind == .out ? .break : .command, start: request.time,
                                      plannedDuration: request.duration, section: request.section ?? [])
            if request.kind == .command {
                commands.append(marker)
                return .success(Accepted(id: id))
            }
            outs.append(Out(marker: marker, encodes: request.section == nil))
            var accepted = Accepted(id: id, add: [request.time])
            if let duration = request.duration {
                returns.append(Return(id: id, point: request.time + duration))
                accepted.add.append(request.time + duration)
            }
            return .success(accepted)
        case .in:
            let candidates = Array(running.values) + outs.map(\.marker)
            // The break named (by id, or by event id for a signal), else the latest one.
            let target: SpliceMarker?
            if let id = request.id {
                target = candidates.first { $0.id == id }
            } else if let eventID = request.eventID {
                target = candidates.first { $0.eventID == eventID }
            } else {
                target = candidates.max { $0.signalledStart < $1.signalledStart }
            }
            guard let target else {
                let named = request.id ?? request.eventID.map { "with event id \($0)" }
                return .failure(LiveError(.splice, named.map { "no break \($0) is running" } ?? "no break is running"))
            }
            var accepted = Accepted(id: target.id)
            accepted.remove = returns.filter { $0.id == target.id }.map(\.point)
            returns.removeAll { $0.id == target.id }
            let point = max(request.time, target.signalledStart)
            returns.append(Return(id: target.id, point: point, section: request.section))
            accepted.add = [point]
            return .success(accepted)
        case .cancel:
            guard let eventID = request.eventID,
                  let out = outs.first(where: { $0.marker.eventID == eventID })?.marker ?? commands.first(where: { $0.eventID == eventID }) else {
                return .failure(LiveError(.splice, "no splice with event id \(request.eventID.map(String.init) ?? "?") waits to be cut"))
            }
            var accepted = Accepted(id: out.id, remove: [out.signalledStart] + returns.filter { $0.id == out.id }.map(\.point))
            if out.kind == .command { accepted.remove = [] }
            outs.removeAll { $0.marker.id == out.id }
            commands.removeAll { $0.id == out.id }
            returns.removeAll { $0.id == out.id }
            return .success(accepted)
        }
    }

    /// The reference track cut at `boundary`: the outs and returns asked for at or before it
    /// (`slack` after counts as at) start or end there.
    package mutating func cut(at boundary: MediaTime, slack: MediaTime) -> [Announcement] {
        var announced: [Announcement] = []
        let previous = lastBoundary
        lastBoundary = boundary
        for command in commands where command.signalledStart < boundary - slack {
            // A signal is listed where the segment it falls in starts (asked late: the next one).
            var marker = command
            marker.start = previous.flatMap { $0 <= command.signalledStart + slack ? $0 : nil } ?? boundary
            announced.append(Announcement(marker: marker, shift: marker.start - command.signalledStart, isEnd: false))
        }
        commands.removeAll { $0.signalledStart < boundary - slack }
        for out in outs where out.marker.signalledStart <= boundary + slack {
            var marker = out.marker
            marker.start = boundary
            if out.encodes {
                let duration = marker.plannedDuration.map { BreakDuration(autoReturn: true, duration: Self.ticks($0)) }
                marker.section = SpliceInfoSection(command: .insert(SpliceInsert(eventID: marker.eventID, spliceTime: Self.ticks(boundary),
                                                                                 breakDuration: duration))).encoded()
            }
            running[marker.id] = marker
            announced.append(Announcement(marker: marker, shift: boundary - marker.signalledStart, isEnd: false))
        }
        outs.removeAll { $0.marker.signalledStart <= boundary + slack }
        var kept: [Return] = []
        for back in returns {
            guard back.point <= boundary + slack else { kept.append(back); continue }
            guard var marker = running[back.id] else {
                // Its break has not started (it waits for the same cut) or is gone.
                if outs.contains(where: { $0.marker.id == back.id }) { kept.append(back) }
                continue
            }
            // A return cut with its own out ends the break at the next boundary: a break is never empty.
            guard marker.start < boundary else { kept.append(back); continue }
            marker.end = boundary
            marker.returnSection = back.section ?? SpliceInfoSection(command: .insert(SpliceInsert(
                eventID: marker.eventID, outOfNetwork: false, spliceTime: Self.ticks(boundary)))).encoded()
            running[back.id] = nil
            announced.append(Announcement(marker: marker, shift: boundary - back.point, isEnd: true))
        }
        returns = kept
        return announced
    }

    /// A time as a 33-bit count of the 90 kHz SCTE-35 clock.
    static func ticks(_ time: MediaTime) -> UInt64 {
        UInt64(max(0, time.rescaled(to: SpliceInfoSection.clockRate).value)) % SpliceInfoSection.ptsModulus
    }

    private mutating func takeEventID() -> UInt32 {
        defer { nextEventID &+= 1 }
        return nextEventID
    }
}
