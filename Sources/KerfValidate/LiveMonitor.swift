import KerfCore
import KerfManifest
import KerfXML

/// `--live <seconds>`: reloads live playlists or a dynamic MPD for a while and checks how they
/// change (RFC 8216bis §6.2.1–§6.2.2, §6.2.5; ISO/IEC 23009-1 §5.4, DASH-IF IOP §4.3).
struct LiveMonitor {
    let validator: Validator
    let loader: ResourceLoader
    /// How long to watch, in seconds.
    let seconds: Double

    /// What is known of one media playlist between reloads.
    struct PlaylistState {
        var location: String
        /// Where the last reload came from after redirects: URIs resolve against it.
        var base: String
        var playlist: MediaPlaylist
        /// When the last segment was added (or the playlist first read).
        var lastGrowth: Double
        var staleReported = false
        var finished = false

        var firstSequence: UInt64 { playlist.mediaSequence }
        /// The last segment's media sequence number; nil without segments (or past 2^64).
        var lastSequence: UInt64? { Self.last(of: playlist) }
        static func last(of playlist: MediaPlaylist) -> UInt64? {
            guard !playlist.segments.isEmpty else { return nil }
            let (value, overflow) = playlist.mediaSequence.addingReportingOverflow(UInt64(playlist.segments.count - 1))
            return overflow ? nil : value
        }
        func segment(_ sequence: UInt64) -> MediaSegment? {
            guard sequence >= firstSequence, sequence - firstSequence < UInt64(playlist.segments.count) else { return nil }
            return playlist.segments[Int(sequence - firstSequence)]
        }
    }

    // MARK: HLS

    /// Watches the media playlists at `locations` (the input's, or those its multivariant
    /// playlist names), and compares the renditions of `pairs` (from the multivariant playlist
    /// `multivariant`) after each round of reloads.
    func watchHLS(_ locations: [String], pairs: [HLSRules.RenditionPair] = [], multivariant: String = "") async -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ message: String, _ file: String, _ section: String, _ severity: Finding.Severity = .error) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, reference: "\(HLSRules.rfc) \(section)"))
        }
        var states: [PlaylistState] = []
        let start = UTCTime.now()
        for location in locations {
            guard let (document, loaded) = await load(location) else { continue }
            let playlist = document.mediaPlaylist()
            var state = PlaylistState(location: location, base: loaded.location, playlist: playlist, lastGrowth: start)
            state.finished = playlist.endList || playlist.playlistType == .vod
            if !state.finished, !playlist.segments.isEmpty { findings += await lowLatencyChecks(document, state: state) }
            states.append(state)
        }
        var misaligned = Alignment(pairs: pairs, file: multivariant)
        findings += misaligned.compare(states)
        let target = Double(states.map(\.playlist.targetDuration).max() ?? 6)
        let interval = min(max(target / 4, 0.2), 2)
        let deadline = start + seconds
        while UTCTime.now() < deadline, states.contains(where: { !$0.finished }) {
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            for index in states.indices where !states[index].finished {
                let old = states[index]
                let file = old.location
                guard let (document, loaded) = await load(file) else { continue }
                let new = document.mediaPlaylist()
                let now = UTCTime.now()
                if new.mediaSequence < old.firstSequence {
                    add("hls.live-media-sequence", "EXT-X-MEDIA-SEQUENCE went back from \(old.firstSequence) to \(new.mediaSequence)", file, "§6.2.2")
                    states[index].playlist = new
                    states[index].lastGrowth = now
                    continue
                }
                var state = PlaylistState(location: file, base: loaded.location, playlist: new, lastGrowth: old.lastGrowth,
                                          staleReported: old.staleReported)
                state.finished = new.endList
                // Published segments keep their URI and duration.
                for (offset, segment) in new.segments.enumerated() {
                    let (sequence, overflow) = new.mediaSequence.addingReportingOverflow(UInt64(offset))
                    guard !overflow, let before = old.segment(sequence) else { continue }
                    if before.uri != segment.uri || abs(before.duration.seconds - segment.duration.seconds) > 0.0005 {
                        add("hls.live-segment-rewritten",
                            "segment \(sequence) was \(before.uri) (\(formatSeconds(before.duration.seconds)) s), now \(segment.uri) (\(formatSeconds(segment.duration.seconds)) s)",
                            file, "§6.2.2")
                        break
                    }
                }
                if let newLast = state.lastSequence, let oldLast = old.lastSequence, newLast < oldLast {
                    add("hls.live-segment-vanished", "segments up to \(oldLast) were published, the playlist now ends at \(newLast)",
                        file, "§6.2.2")
                }
                // Segments removed from the head: the discontinuity sequence counts their
                // discontinuities, and they stay available for a while.
                var removedEnd = old.firstSequence
                if let oldLast = old.lastSequence, oldLast < UInt64.max { removedEnd = max(old.firstSequence, min(new.mediaSequence, oldLast + 1)) }
                let removed = (old.firstSequence..<removedEnd).compactMap { old.segment($0) }
                let (expectedDiscontinuities, discontinuityOverflow) = old.playlist.discontinuitySequence
                    .addingReportingOverflow(UInt64(removed.filter(\.discontinuity).count))
                if !removed.isEmpty, !discontinuityOverflow, new.discontinuitySequence != expectedDiscontinuities {
                    add("hls.live-discontinuity-sequence",
                        "\(removed.count) segment(s) with \(removed.filter(\.discontinuity).count) discontinuities left the playlist, but EXT-X-DISCONTINUITY-SEQUENCE went from \(old.playlist.discontinuitySequence) to \(new.discontinuitySequence)",
                        file, "§4.4.3.3")
                }
                if let gone = removed.last {
                    let url = ResourceLoader.resolve(gone.uri, against: old.base)
                    let status = await loader.status(of: url)
                    if !(200..<300).contains(status) {
                        add("hls.live-removed-unavailable", "\(gone.uri) left the playlist and at once answered \(status == 0 ? "nothing" : "HTTP \(status)")",
                            file, "§6.2.2")
                    }
                    let remaining = new.seconds
                    if !new.endList, remaining < 3 * Double(new.targetDuration) - 0.001 {
                        add("hls.live-window-too-short",
                            "segments were removed although only \(formatSeconds(remaining)) s remain, under three target durations (\(formatSeconds(3 * Double(new.targetDuration))) s)",
                            file, "§6.2.2")
                    }
                }
                if let newLast = state.lastSequence, old.lastSequence.map({ newLast > $0 }) ?? true {
                    state.lastGrowth = now
                } else if !state.finished, !state.staleReported, now - old.lastGrowth > 1.5 * Double(new.targetDuration) + interval {
                    add("hls.live-stale",
                        "no new segment for \(formatSeconds(now - old.lastGrowth)) s, more than 1.5 × the target duration (\(new.targetDuration) s)",
                        file, "§6.2.1")
                    state.staleReported = true
                }
                states[index] = state
            }
            findings += misaligned.compare(states)
        }
        return findings

        func load(_ location: String) async -> (HLSDocument, LoadedResource)? {
            let loaded: LoadedResource
            do { loaded = try await loader.load(location, limit: validator.maxBytes) } catch {
                add("hls.live-reload-failed", "reloading the playlist failed: \(error)", location, "§6.2.1")
                return nil
            }
            guard var document = try? HLSDocument.parse(loaded.bytes, limits: .init(maxBytes: validator.maxBytes)) else {
                add("hls.live-reload-failed", "a reload returned something that is not a playlist", location, "§4")
                return nil
            }
            // Segment URIs with variables are fetched substituted; the first validation reported
            // what is wrong with the definitions.
            _ = HLSVariables.substitute(&document, file: location, imported: nil, query: Validator.query(of: loaded.location))
            return (document, loaded)
        }
    }

    /// `hls.renditions-misaligned` and `hls.renditions-start-apart` while watching: a pair is
    /// reported once, after two rounds of reloads in a row found it apart (one round may
    /// straddle a publication).
    struct Alignment {
        var pairs: [HLSRules.RenditionPair]
        /// The multivariant playlist, where findings point.
        let file: String
        var apartLastRound = Set<HLSRules.RenditionPair>()

        mutating func compare(_ states: [PlaylistState]) -> [Finding] {
            let byLocation = Dictionary(states.map { ($0.location, $0.playlist) }, uniquingKeysWith: { first, _ in first })
            var apart = Set<HLSRules.RenditionPair>()
            var reported = Set<HLSRules.RenditionPair>()
            var findings: [Finding] = []
            for pair in pairs {
                guard let variant = byLocation[pair.variant], let rendition = byLocation[pair.rendition],
                      let finding = HLSRules.alignment(pair, variant: variant, rendition: rendition, file: file) else { continue }
                apart.insert(pair)
                if apartLastRound.contains(pair) {
                    findings.append(finding)
                    reported.insert(pair)
                }
            }
            pairs.removeAll { reported.contains($0) }
            apartLastRound = apart
            return findings
        }
    }

    /// Blocking playlist reload and delta updates, when EXT-X-SERVER-CONTROL offers them (§6.2.5).
    private func lowLatencyChecks(_ document: HLSDocument, state: PlaylistState) async -> [Finding] {
        guard ResourceLoader.isRemote(state.location), let control = document.tags("EXT-X-SERVER-CONTROL").first?.attributes else { return [] }
        var findings: [Finding] = []
        func add(_ rule: String, _ message: String, _ section: String) {
            findings.append(Finding(rule: rule, severity: .error, message: message, file: state.location, reference: "\(HLSRules.rfc) \(section)"))
        }
        let separator = state.location.contains("?") ? "&" : "?"
        if control[attribute: "CAN-BLOCK-RELOAD"]?.value == "YES" {
            guard let last = state.lastSequence, last < UInt64.max else { return findings }
            let wanted = last + 1
            let asked = UTCTime.now()
            do {
                let loaded = try await loader.load(state.location + "\(separator)_HLS_msn=\(wanted)", limit: validator.maxBytes)
                let answer = try HLSDocument.parse(loaded.bytes, limits: .init(maxBytes: validator.maxBytes)).mediaPlaylist()
                let answered = PlaylistState.last(of: answer)
                if (answered ?? 0) < wanted {
                    add("hls.live-blocking-reload",
                        "asked for _HLS_msn=\(wanted), answered after \(formatSeconds(UTCTime.now() - asked)) s with a playlist ending at segment \(answered.map(String.init) ?? "none")",
                        "§6.2.5.2")
                }
            } catch {
                add("hls.live-blocking-reload", "asked for _HLS_msn=\(wanted): \(error)", "§6.2.5.2")
            }
        }
        // A delta update only skips segments older than CAN-SKIP-UNTIL: a shorter playlist has
        // nothing to skip.
        let skipUntil = control[attribute: "CAN-SKIP-UNTIL"].flatMap { Double($0.value) }
        if let skipUntil, state.playlist.seconds > skipUntil {
            do {
                let full = try await loader.load(state.location, limit: validator.maxBytes)
                let delta = try await loader.load(state.location + "\(separator)_HLS_skip=YES", limit: validator.maxBytes)
                let fullPlaylist = try HLSDocument.parse(full.bytes).mediaPlaylist()
                let deltaDocument = try HLSDocument.parse(delta.bytes)
                guard let skip = deltaDocument.tags("EXT-X-SKIP").first?.attributes?[attribute: "SKIPPED-SEGMENTS"].flatMap({ UInt64($0.value) }) else {
                    add("hls.live-delta-update", "_HLS_skip=YES was answered without EXT-X-SKIP", "§6.2.5.1")
                    return findings
                }
                let deltaPlaylist = deltaDocument.mediaPlaylist()
                let fullState = PlaylistState(location: state.location, base: full.location, playlist: fullPlaylist, lastGrowth: 0)
                for (offset, segment) in deltaPlaylist.segments.enumerated() {
                    let (skipped, overflow1) = deltaPlaylist.mediaSequence.addingReportingOverflow(skip)
                    let (sequence, overflow2) = skipped.addingReportingOverflow(UInt64(offset))
                    guard !overflow1, !overflow2 else { break }
                    if let match = fullState.segment(sequence), match.uri != segment.uri || match.duration != segment.duration {
                        add("hls.live-delta-update", "the delta update's segment \(sequence) is \(segment.uri), the full playlist's \(match.uri)", "§6.2.5.1")
                        break
                    }
                }
            } catch {
                add("hls.live-delta-update", "_HLS_skip=YES: \(error)", "§6.2.5.1")
            }
        }
        return findings
    }

    // MARK: DASH

    /// Reloads a dynamic MPD: publishTime, stable timelines and segment availability.
    func watchDASH(_ location: String) async -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ message: String, _ reference: String, _ severity: Finding.Severity = .error, path: String? = nil) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: location, path: path, reference: reference))
        }
        let iso = DASHRules.iso
        var previous: (bytes: [UInt8], publishTime: Double?)?
        var published: [String: [Int64: DASHPresentation.Segment]] = [:]
        var lastSegment: [String: DASHPresentation.Segment] = [:]
        var checked = Set<String>()
        let deadline = UTCTime.now() + seconds
        var interval = 1.0
        repeat {
            let loaded: LoadedResource
            do { loaded = try await loader.load(location, limit: validator.maxBytes) } catch {
                add("dash.live-reload-failed", "reloading the MPD failed: \(error)", "\(iso) §5.4")
                try? await Task.sleep(for: .seconds(interval))
                continue
            }
            guard let mpd = try? XMLReader.read(loaded.bytes, name: location, maxBytes: validator.maxBytes), mpd.localName == "MPD" else {
                add("dash.live-reload-failed", "a reload returned something that is not an MPD", "\(iso) §5.4")
                break
            }
            // The server's clock, from its Date header, when ours is off by more than a second or two.
            var now = UTCTime.now()
            if let date = loaded.serverDate, abs(date - now) > 2 { now = date }
            let presentation = DASHPresentation(mpd, location: loaded.location, now: now)
            if let update = mpd.attribute("minimumUpdatePeriod").flatMap(XSTime.duration) { interval = min(max(update, 0.5), 2) }
            if let previous {
                if let before = previous.publishTime, let after = presentation.publishTime {
                    if after < before {
                        add("dash.live-publish-time", "MPD@publishTime went back from \(mpd.attribute("publishTime") ?? "") by \(formatSeconds(before - after)) s",
                            "\(iso) §5.3.1.2")
                    } else if after == before, previous.bytes != loaded.bytes {
                        add("dash.live-publish-time-unchanged", "the MPD changed but MPD@publishTime did not", "\(iso) §5.3.1.2", .warning)
                    }
                }
            }
            previous = (loaded.bytes, presentation.publishTime)
            for representation in presentation.representations {
                let key = "\(representation.periodID ?? "")/\(representation.id)"
                var known = published[key] ?? [:]
                // Numbers matter only where they address segments ($Number$); with $Time$ an
                // MPD may leave startNumber out and let implied numbers move with the window.
                let numbered = representation.mediaTemplate?.contains("$Number") ?? true
                for segment in representation.segments.suffix(50) {
                    if let before = known[segment.time],
                       before.duration != segment.duration || (numbered && before.number != segment.number) {
                        add("dash.live-segment-rewritten",
                            "the segment at t=\(segment.time) of Representation \(representation.id) was number \(before.number) lasting \(before.duration), now number \(segment.number) lasting \(segment.duration)",
                            "\(iso) §5.3.9.6", path: representation.path)
                    }
                    known[segment.time] = segment
                }
                published[key] = known
                // The update continues the previous timeline: what follows the segment that
                // ended it starts where that one ends, and nothing announced vanishes from the end.
                if let before = lastSegment[key], let newest = representation.segments.last {
                    if newest.time + newest.duration < before.time + before.duration {
                        add("dash.live-timeline-continuity",
                            "the timeline of Representation \(representation.id) now ends at t=\(newest.time + newest.duration), an earlier update announced segments up to t=\(before.time + before.duration)",
                            "\(iso) §5.3.9.6, \(DASHRules.iop) §4.4", path: representation.path)
                    } else if let index = representation.segments.lastIndex(where: { $0.time == before.time }),
                              index + 1 < representation.segments.count,
                              representation.segments[index + 1].time != before.time + before.duration {
                        add("dash.live-timeline-continuity",
                            "after the segment at t=\(before.time), which ended the previous update, Representation \(representation.id) continues at t=\(representation.segments[index + 1].time), not t=\(before.time + before.duration)",
                            "\(iso) §5.3.9.6, \(DASHRules.iop) §4.4", path: representation.path)
                    }
                }
                if let newest = representation.segments.last { lastSegment[key] = newest }
                // The newest segment that should be available by now (1 s tolerance) is.
                guard let start = presentation.availabilityStartTime else { continue }
                let available = representation.segments.last { segment in
                    start + representation.start(segment) + Double(segment.duration) / Double(representation.timescale) <= now - 1
                }
                guard let available, checked.insert(representation.url(of: available)).inserted else { continue }
                let status = await loader.status(of: representation.url(of: available))
                if !(200..<300).contains(status) {
                    let due = start + representation.start(available) + Double(available.duration) / Double(representation.timescale)
                    add("dash.live-segment-unavailable",
                        "segment \(available.number) of Representation \(representation.id) was due \(formatSeconds(now - due)) s ago but answered \(status == 0 ? "nothing" : "HTTP \(status)")",
                        "\(iso) §5.3.9.5.3", path: representation.path)
                }
            }
            if presentation.type != "dynamic" { break }
            try? await Task.sleep(for: .seconds(interval))
        } while UTCTime.now() < deadline
        return findings
    }
}
