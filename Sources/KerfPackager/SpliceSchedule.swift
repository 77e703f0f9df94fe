import KerfCore

/// The splices of a package: asked for by a cue list or signalled by SCTE-35 in the inputs,
/// paired into breaks (an out with its return: an explicit splice in with the same event id,
/// else the out's time plus its duration), turned into the times the segmenter must cut at,
/// and once the boundaries are known, into the `SpliceMarker`s manifests list.
struct SpliceSchedule {
    struct Request {
        enum Role { case out, `return`, cancel, command }
        /// Presentation time the signal asks for.
        var time: MediaTime
        var role: Role
        var eventID: UInt32
        var id: String?
        var duration: MediaTime?
        var bytes: [UInt8]
    }

    private(set) var requests: [Request] = []

    /// The cue list's splices. A cue without a section gets a splice_insert (out of network,
    /// its time as pts_time, its duration as an auto-return break_duration).
    init(cues: [CuePoint]) {
        for (index, cue) in cues.enumerated() {
            let numeric = cue.id.flatMap { UInt32($0) }
            guard let bytes = cue.section, let section = try? SpliceInfoSection.parse(bytes) else {
                let eventID = numeric ?? UInt32(index + 1)
                let insert = SpliceInsert(eventID: eventID, spliceTime: UInt64(cue.time.rescaled(to: SpliceInfoSection.clockRate).value),
                                          breakDuration: cue.duration.map {
                                              BreakDuration(autoReturn: true, duration: UInt64($0.rescaled(to: SpliceInfoSection.clockRate).value))
                                          })
                requests.append(Request(time: cue.time, role: .out, eventID: eventID, id: cue.id, duration: cue.duration,
                                        bytes: SpliceInfoSection(command: .insert(insert)).encoded()))
                continue
            }
            add(section, bytes: bytes, at: cue.time, id: cue.id, eventID: section.eventID ?? numeric ?? UInt32(index + 1),
                duration: cue.duration)
        }
    }

    /// Adds the sections an input carries, timed against the input's origin.
    mutating func add(_ scan: DataStreamScan, origin: MediaTime) {
        for found in scan.found {
            let time = found.time - origin
            guard time.value >= 0 else { continue }
            // The same event signalled in several renditions of one title counts once.
            if requests.contains(where: { $0.bytes == found.bytes }) { continue }
            add(found.section, bytes: found.bytes, at: time, id: nil, eventID: found.section.eventID ?? 0, duration: nil)
        }
        requests.sort { $0.time < $1.time }
    }

    private mutating func add(_ section: SpliceInfoSection, bytes: [UInt8], at time: MediaTime, id: String?, eventID: UInt32,
                              duration: MediaTime?) {
        let role: Request.Role
        switch section.signal {
        case .out: role = .out
        case .in: role = .return
        case .cancel: role = .cancel
        case .other: role = .command
        }
        requests.append(Request(time: time, role: role, eventID: eventID, id: id,
                                duration: duration ?? section.duration.map(SpliceInfoSection.mediaTime), bytes: bytes))
    }

    var isEmpty: Bool { requests.isEmpty }

    /// A break: its out, and where and how it returns.
    private struct Pairing {
        var out: Request
        var end: MediaTime?
        var returnBytes: [UInt8]?
    }

    private var breaks: [Pairing] {
        let cancelled = Set(requests.filter { $0.role == .cancel }.map(\.eventID))
        return requests.filter { $0.role == .out && !cancelled.contains($0.eventID) }.map { out in
            if let back = requests.first(where: { $0.role == .return && $0.eventID == out.eventID && $0.time > out.time }) {
                return Pairing(out: out, end: back.time, returnBytes: back.bytes)
            }
            return Pairing(out: out, end: out.duration.map { out.time + $0 })
        }
    }

    /// Where segments must start: every break's out and return.
    var cutPoints: [MediaTime] {
        breaks.flatMap { [$0.out.time] + ($0.end.map { [$0] } ?? []) }.sorted()
    }

    /// The splices as in-band events (`--dash-events inband`): each break's out and explicit
    /// return, in the segment cut for it, and each other signal where it falls. An out's emsg
    /// id is its event id; a return's and a command's, their section's CRC_32 (a client takes
    /// two emsg of one scheme and id for one event).
    func eventMessages(tolerance: MediaTime) -> [EventMessage] {
        var messages: [EventMessage] = []
        for pairing in breaks {
            let out = pairing.out
            messages.append(.splice(time: out.time, duration: out.duration, id: out.eventID, section: out.bytes, tolerance: tolerance))
            if let end = pairing.end, let bytes = pairing.returnBytes {
                messages.append(.splice(time: end, duration: nil, id: EventMessage.sectionCRC(bytes), section: bytes, tolerance: tolerance))
            }
        }
        for command in requests where command.role == .command {
            messages.append(EventMessage(scheme: EventMessage.scte35Scheme, time: command.time, duration: command.duration,
                                         id: EventMessage.sectionCRC(command.bytes), data: command.bytes))
        }
        return messages.sorted { $0.time < $1.time }
    }

    /// What was signalled, and where it was cut.
    struct Placement {
        var marker: SpliceMarker
        /// How much later than signalled the break starts and ends (a keyframe further on).
        var startShift: MediaTime
        var endShift: MediaTime?
    }

    /// The markers, their starts and ends moved to the segment boundaries at or after the
    /// signalled times (`tolerance` early counts as at). Splices after the last boundary
    /// are left out; a return after it leaves the break without an end.
    func placements(boundaries: [MediaTime], tolerance: MediaTime) -> [Placement] {
        let starts = [MediaTime.zero(timescale: 1)] + boundaries
        func boundary(at time: MediaTime) -> MediaTime? { starts.first { $0 + tolerance >= time } }
        var placements: [Placement] = []
        var ids: Set<String> = []
        func uniqueID(_ wanted: String) -> String {
            var id = wanted, n = 2
            while ids.contains(id) { id = "\(wanted)-\(n)"; n += 1 }
            ids.insert(id)
            return id
        }
        for pairing in breaks {
            guard let start = boundary(at: pairing.out.time) else { continue }
            // A return that lands on the out's own boundary (both moved to one keyframe) ends
            // the break at the next boundary instead: a break is never empty.
            var end = pairing.end.flatMap(boundary(at:))
            if let landed = end, landed <= start { end = starts.first { $0 > start } }
            let marker = SpliceMarker(id: uniqueID(pairing.out.id ?? "splice-\(pairing.out.eventID)"), eventID: pairing.out.eventID,
                                      start: start, signalledStart: pairing.out.time, plannedDuration: pairing.out.duration,
                                      end: end, section: pairing.out.bytes, returnSection: end == nil ? nil : pairing.returnBytes)
            placements.append(Placement(marker: marker, startShift: start - pairing.out.time,
                                        endShift: end.flatMap { end in pairing.end.map { end - $0 } }))
        }
        for command in requests where command.role == .command {
            guard let start = boundary(at: command.time) else { continue }
            // A command is listed where the segment it falls in starts: no cut is made for it.
            let at = starts.last { $0 <= command.time + tolerance } ?? start
            placements.append(Placement(marker: SpliceMarker(id: uniqueID(command.id ?? "signal-\(command.eventID)"), eventID: command.eventID,
                                                             kind: .command, start: at, signalledStart: command.time,
                                                             plannedDuration: command.duration, section: command.bytes),
                                        startShift: .zero(timescale: 1)))
        }
        return placements.sorted { $0.marker.start < $1.marker.start }
    }
}
