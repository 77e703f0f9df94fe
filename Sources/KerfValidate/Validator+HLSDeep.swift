import KerfCore
import KerfManifest

/// `--deep` for HLS media playlists: the segments read, decrypted where keys allow, and
/// checked against the playlist.
extension Validator {
    /// Reads segments of a media playlist: keyframe starts, durations, continuity, bit rates.
    /// - Parameter independent: the multivariant playlist declares EXT-X-INDEPENDENT-SEGMENTS.
    func deepChecks(_ document: HLSDocument, path: String, base: String, independent: Bool,
                    loader: ResourceLoader) async -> ([Finding], Measured?) {
        let playlist = document.mediaPlaylist()
        guard !playlist.iFramesOnly, !playlist.segments.isEmpty else { return ([], nil) }
        let mustStartWithKeyframes = independent || playlist.independentSegments
        var durations: [(seconds: Double, bits: Double)] = []
        let uriLines = document.lines.compactMap { line -> Int? in
            if case .uri = line.content { return line.number }
            return nil
        }
        var findings: [Finding] = []
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ index: Int, _ section: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: path,
                                    line: index < uriLines.count ? uriLines[index] : nil, reference: "\(HLSRules.rfc) \(section)"))
        }
        let chosen = Set(Validator.sample(playlist.segments.count, maxSegments))
        let inspector = SegmentInspector(base: base, loader: loader, maxBytes: maxSegmentBytes, keys: keys)
        let segmentKeys = Validator.segmentKeys(document)
        var map: HLSMap?
        var reporter = SegmentProtectionReporter()
        var checkedInits = Set<String>()
        var previous: (index: Int, end: Double)?
        var peak = 0, bits = 0.0, seconds = 0.0
        var first: InspectedSegment?
        var firstStart: Double?
        for (index, segment) in playlist.segments.enumerated() {
            if let newMap = segment.map { map = newMap }
            if segment.discontinuity { previous = nil }
            guard chosen.contains(index) else { continue }
            let (sequence, overflow) = playlist.mediaSequence.addingReportingOverflow(UInt64(index))
            if overflow {
                add("hls.media-sequence", .error, "media sequence number of \(segment.uri) overflows 64 bits", index, "§4.4.3.2")
                continue
            }
            let keyTags = index < segmentKeys.count ? segmentKeys[index] : []
            let inspected: InspectedSegment?
            do {
                if let map {
                    findings += await initChecks(map, keys: keyTags, inspector: inspector, checked: &checkedInits, path: path,
                                                 line: index < uriLines.count ? uriLines[index] : nil)
                }
                inspected = try await inspector.inspect(segment, map: map, keys: keyTags, sequence: sequence)
            } catch let failure as DecryptionFailure {
                add("hls.decryption-failed", .error, "\(segment.uri) \(failure)", index, "§4.4.4.4")
                previous = nil
                continue
            } catch {
                add("hls.segment-unreadable", .error, "\(segment.uri) cannot be read as media: \(error)", index, "§3")
                previous = nil
                continue
            }
            guard let inspected else {
                add("hls.segment-encrypted", .info, "\(segment.uri) is encrypted and its key is not reachable (--key gives it): not checked",
                    index, "§4.4.4.4")
                previous = nil
                continue
            }
            if let protection = inspected.protection {
                for note in reporter.notes(protection, segment: segment.uri) {
                    findings.append(Finding(rule: "hls.\(note.rule)", severity: note.severity, message: note.message, file: path,
                                            line: index < uriLines.count ? uriLines[index] : nil, reference: note.reference))
                }
            }
            if first == nil { first = inspected }
            if index == 0 { firstStart = inspected.start }
            let declared = segment.duration.seconds
            if inspected.startsWithKeyframe == false {
                if mustStartWithKeyframes {
                    add("hls.independent-segments-violated", .error, "\(segment.uri) does not start with a keyframe", index,
                        "§4.4.2.1 (EXT-X-INDEPENDENT-SEGMENTS)")
                } else {
                    findings.append(Finding(rule: "hls.segment-not-keyframe", severity: .warning,
                                            message: "\(segment.uri) does not start with a keyframe", file: path,
                                            line: index < uriLines.count ? uriLines[index] : nil,
                                            reference: "\(HLSRules.apple) §1.10"))
                }
            }
            let tolerance = inspected.frameDuration ?? 0.05
            if let start = inspected.start, let end = inspected.end {
                let actual = end - start
                if abs(actual - declared) > tolerance + 0.0005 {
                    add("hls.segment-duration", .error, "\(segment.uri) lasts \(formatSeconds(actual)) s but EXTINF says \(formatSeconds(declared)) s",
                        index, "§4.4.4.1")
                }
                if let previous, previous.index == index - 1, abs(start - previous.end) > tolerance + 0.0005 {
                    add("hls.timestamp-gap", .error,
                        "\(segment.uri) starts at \(formatSeconds(start)) s, the previous segment ended at \(formatSeconds(previous.end)) s", index, "§6.2.2")
                }
                previous = (index, end)
            }
            if declared > 0 {
                durations.append((declared, Double(inspected.size) * 8))
                bits += Double(inspected.size) * 8
                seconds += declared
            }
        }
        peak = Validator.peakBitRate(durations, target: Double(playlist.targetDuration))
        let average = seconds > 0 ? Validator.wholeRate(bits / seconds) : 0
        return (findings, Measured(peak: peak, average: average, codecs: first?.codecs ?? [], width: first?.width, height: first?.height,
                                   start: firstStart))
    }

    /// The checks of an init segment against the EXT-X-KEY tags of a segment that uses it, once
    /// per distinct pair: its own protection boxes, then the signalling.
    private func initChecks(_ map: HLSMap, keys: [HLSKey], inspector: SegmentInspector, checked: inout Set<String>,
                            path: String, line: Int?) async -> [Finding] {
        let mapID = "\(map.uri)|\(map.byteRange.map { "\($0.length)@\($0.offset ?? 0)" } ?? "")"
        let pair = mapID + "|" + keys.map { "\($0.method.rawValue),\($0.keyFormat ?? ""),\($0.keyID ?? "")" }.joined(separator: ";")
        guard checked.insert(pair).inserted, let loaded = try? await inspector.initSegment(map), let protection = loaded.protection else { return [] }
        let bytes = loaded.bytes
        var notes: [ProtectionRules.Note] = []
        if checked.insert(mapID).inserted { notes += ProtectionRules.initSegment(protection, bytes: bytes, name: map.uri) }
        notes += ProtectionRules.hls(protection, keys: keys, name: map.uri)
        return notes.map {
            Finding(rule: "hls.\($0.rule)", severity: $0.severity, message: $0.message, file: path, line: line, reference: $0.reference)
        }
    }

    /// The EXT-X-KEY tags in force for each Media Segment, in order: the latest of each
    /// KEYFORMAT (RFC 8216bis §4.4.4.4); METHOD=NONE clears them all.
    static func segmentKeys(_ document: HLSDocument) -> [[HLSKey]] {
        var result: [[HLSKey]] = []
        var current: [(format: String, key: HLSKey)] = []
        var hasInfo = false
        for line in document.lines {
            switch line.content {
            case .tag("EXT-X-KEY", _, let attributes?):
                guard let method = attributes[attribute: "METHOD"].flatMap({ HLSKey.Method(rawValue: $0.value) }) else { continue }
                guard method != .none else { current = []; continue }
                let key = HLSKey(method: method, uri: attributes[attribute: "URI"]?.unquoted, iv: attributes[attribute: "IV"]?.value,
                                 keyFormat: attributes[attribute: "KEYFORMAT"]?.unquoted,
                                 keyFormatVersions: attributes[attribute: "KEYFORMATVERSIONS"]?.unquoted,
                                 keyID: attributes[attribute: "KEYID"]?.value)
                let format = key.keyFormat ?? "identity"
                current.removeAll { $0.format == format }
                current.append((format, key))
            case .tag("EXTINF", _, _):
                hasInfo = true
            case .uri:
                guard hasInfo else { continue }
                result.append(current.map { $0.key })
                hasInfo = false
            default:
                break
            }
        }
        return result
    }
}
