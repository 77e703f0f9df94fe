/// `--deep` for DASH: reads each Representation's initialization and (sampled) media segments and
/// checks them against the MPD: keyframe starts, durations, continuity, codecs, resolution and
/// bandwidth.
struct DASHInspection {
    let validator: Validator
    let loader: ResourceLoader
    /// The MPD the findings belong to.
    let file: String
    /// The MPD claims the CMAF profile: headers and fragments are checked as CMAF's.
    var cmaf = false

    func check(_ presentation: DASHPresentation) async -> [Finding] {
        var findings: [Finding] = []
        for representation in presentation.representations {
            findings += await check(representation)
        }
        return findings
    }

    private func check(_ representation: DASHPresentation.Representation) async -> [Finding] {
        var findings: [Finding] = []
        let iso = DASHRules.iso
        func add(_ rule: String, _ severity: Finding.Severity, _ message: String, _ path: String? = nil, _ reference: String) {
            findings.append(Finding(rule: rule, severity: severity, message: message, file: file, path: path ?? representation.path,
                                    reference: reference))
        }
        // Text and thumbnail (image) Representations are not audiovisual media.
        let mime = representation.mimeType ?? ""
        let notMedia = ["text", "image"].contains(representation.contentType) || mime.hasPrefix("text/") || mime.hasPrefix("image/")
        guard !notMedia, !representation.segments.isEmpty else { return [] }
        let name = "Representation \(representation.id)"
        var initialization: [UInt8] = []
        if let url = representation.initialization {
            do {
                initialization = try await loader.load(url, range: representation.initializationRange, limit: validator.maxSegmentBytes).bytes
            } catch {
                add("dash.segment-unreadable", .error, "the initialization segment of \(name) (\(url)) cannot be read: \(error)", nil, "\(iso) §5.3.9.5")
                return findings
            }
        }
        if cmaf && !initialization.isEmpty {
            for problem in CMAFStructure.headerProblems(initialization) {
                add("dash.cmaf-header", .error, "the initialization segment of \(name) is no CMAF header: \(problem)", nil, "\(CMAFStructure.spec) §7.3")
            }
        }
        var cmafFragmentReported = false
        /// emsg rules reported for this Representation (each once).
        var reportedEvents = Set<String>()
        findings += protectionChecks(initialization, representation: representation, name: name).map {
            Finding(rule: "dash.\($0.rule)", severity: $0.severity, message: $0.message, file: file, path: representation.path, reference: $0.reference)
        }
        var reporter = SegmentProtectionReporter()
        // Every sample of the first decrypted segment is decoded, the first ones of the others.
        var extent = SegmentInspector.DecodeExtent.all
        let segments = representation.segments
        let chosen = Validator.sample(segments.count, validator.maxSegments)
        var previous: (index: Int, end: Double)?
        var bits = 0.0, seconds = 0.0
        var first: InspectedSegment?
        for index in chosen {
            let segment = segments[index]
            let url = representation.url(of: segment)
            let bytes: [UInt8]
            do {
                bytes = try await loader.load(url, range: segment.range, limit: validator.maxSegmentBytes).bytes
            } catch {
                add("dash.segment-unreadable", .error, "segment \(segment.number) of \(name) (\(url)) cannot be read: \(error)",
                    nil, "\(iso) §5.3.9")
                previous = nil
                continue
            }
            for problem in EventMessages.problems(bytes, signalled: representation.inbandEventSchemes)
            where reportedEvents.insert(problem.rule).inserted {
                add(problem.rule, problem.severity, "segment \(segment.number) of \(name): \(problem.message)", nil, problem.reference)
            }
            if cmaf && !cmafFragmentReported, let problem = CMAFStructure.fragmentProblems(bytes).first {
                add("dash.cmaf-fragment", .error, "segment \(segment.number) of \(name): \(problem)", nil, "\(CMAFStructure.spec) §7.3")
                cmafFragmentReported = true  // once per Representation
            }
            if representation.addressing == .base, initialization.isEmpty, index == chosen.first {
                findings += protectionChecks(bytes, representation: representation, name: name).map {
                    Finding(rule: "dash.\($0.rule)", severity: $0.severity, message: $0.message, file: file, path: representation.path,
                            reference: $0.reference)
                }
            }
            let inspected: InspectedSegment
            let shortName = url.split(separator: "/").last.map(String.init) ?? url
            do {
                // SegmentBase: the one file holds its own initialization.
                let whole = representation.addressing == .base
                var media = whole ? bytes : initialization + bytes
                let protection = decrypt(&media, segmentStart: whole ? 0 : initialization.count)
                inspected = try SegmentInspector.inspect(media, name: url, size: bytes.count)
                if var protection {
                    if protection.outcome.decryptedSamples > 0 {
                        protection.decodeFailure = SegmentInspector.decodeFailure(media, name: url, trackIDs: protection.outcome.decryptedTracks,
                                                                                  extent: extent)
                        extent = .first
                    }
                    for note in reporter.notes(protection, segment: "segment \(segment.number) of \(name) (\(shortName))") {
                        add("dash.\(note.rule)", note.severity, note.message, nil, note.reference)
                    }
                }
            } catch {
                add("dash.segment-unreadable", .error, "segment \(segment.number) of \(name) cannot be read as media: \(error)", nil, "\(iso) §5.3.9")
                previous = nil
                continue
            }
            if first == nil { first = inspected }
            if inspected.startsWithKeyframe == false {
                let promised = (1...3).contains(representation.startWithSAP ?? 0)
                let message = "segment \(segment.number) of \(name) (\(shortName)) does not start with a keyframe"
                if promised {
                    add("dash.start-with-sap-violated", .error, message + " although startWithSAP is \(representation.startWithSAP ?? 0)",
                        nil, "\(iso) §5.3.3.2, \(DASHRules.iop) §3.2.2")
                } else {
                    add("dash.segment-not-keyframe", .warning, message, nil, "\(DASHRules.iop) §3.2.2")
                }
            }
            let declared = Double(segment.duration) / Double(representation.timescale)
            let tolerance = (inspected.frameDuration ?? 0.05) + 0.0005
            let isLast = index == segments.count - 1
            if let start = inspected.start, let end = inspected.end {
                // With a template's nominal @duration, segments may drift up to half of it from
                // their MPD start times; a timeline gives exact durations.
                if representation.addressing == .duration, !isLast {
                    let nominal = Double(segment.time) / Double(representation.timescale)
                    if abs(start - nominal) > declared / 2 {
                        add("dash.segment-duration", .error,
                            "segment \(segment.number) of \(name) (\(shortName)) starts at \(formatSeconds(start)) s, more than half of @duration from its MPD start \(formatSeconds(nominal)) s",
                            nil, "\(DASHRules.iop) §3.2.7")
                    }
                }
                if representation.addressing == .timeline, declared > 0, abs((end - start) - declared) > tolerance {
                    add("dash.segment-duration", .error,
                        "segment \(segment.number) of \(name) (\(shortName)) lasts \(formatSeconds(end - start)) s but the MPD says \(formatSeconds(declared)) s",
                        nil, "\(iso) §5.3.9.6")
                }
                if let previous, previous.index == index - 1, abs(start - previous.end) > tolerance {
                    add("dash.timestamp-gap", .error,
                        "segment \(segment.number) of \(name) (\(shortName)) starts at \(formatSeconds(start)) s, the previous one ended at \(formatSeconds(previous.end)) s",
                        nil, "\(iso) §7.2.1")
                }
                previous = (index, end)
                seconds += representation.addressing == .base ? (end - start) : declared
                bits += Double(inspected.size) * 8
            }
        }
        if let first {
            let declaredCodecs = (representation.codecs ?? "").split(separator: ",").map { String($0.filter { $0 != " " }) }
            // Codec strings compare case-insensitively (hex digits may be written either way).
            for codec in first.codecs where !declaredCodecs.isEmpty && !declaredCodecs.contains(where: { $0.lowercased() == codec.lowercased() }) {
                add("dash.codecs-mismatch", .error, "\(name) holds \(codec), which @codecs (\(representation.codecs ?? "")) does not list",
                    nil, "\(iso) §5.3.7.2")
            }
            if let w = first.width, let h = first.height, let dw = representation.width, let dh = representation.height, (w, h) != (dw, dh) {
                add("dash.resolution-mismatch", .error, "\(name) declares \(dw)x\(dh) but its segments are \(w)x\(h)", nil, "\(iso) §5.3.7.2")
            }
        }
        if let bandwidth = representation.bandwidth, seconds > 0, bits / seconds > Double(bandwidth) * 1.1 {
            let rate = bits / seconds
            add("dash.bandwidth-understated", .error,
                "@bandwidth \(bandwidth) of \(name) is below the measured average bit rate \(Validator.wholeRate(rate))",
                nil, "\(iso) §5.3.5.2")
        }
        return findings
    }

    /// The init segment's protection boxes on their own and against the Representation's
    /// ContentProtection descriptors. SegmentBase files are checked with their first segment.
    private func protectionChecks(_ initialization: [UInt8], representation: DASHPresentation.Representation,
                                  name: String) -> [ProtectionRules.Note] {
        guard !initialization.isEmpty, let protection = InitProtection.parse(initialization) else { return [] }
        return ProtectionRules.initSegment(protection, bytes: initialization, name: "the initialization segment of \(name)")
            + ProtectionRules.dash(protection, descriptors: representation.contentProtections, name: name)
    }

    /// Decrypts the Common Encryption samples of `media` (an init segment and a media segment,
    /// or a whole SegmentBase file) with the validator's keys.
    /// - Returns: nil when the samples are not protected.
    private func decrypt(_ media: inout [UInt8], segmentStart: Int) -> SegmentProtection? {
        guard let protection = InitProtection.parse(media), protection.isProtected else { return nil }
        let outcome = FragmentDecryptor(protection: protection, keys: validator.keys).decrypt(&media, segmentStart: segmentStart)
        FragmentDecryptor.hideAuxiliaryInformation(&media)
        return SegmentProtection(outcome: outcome)
    }
}
