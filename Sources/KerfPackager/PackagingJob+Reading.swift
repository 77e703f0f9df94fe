import KerfCore
import KerfMedia

/// Reading: packets merged across inputs in decode order, timed against each input's origin,
/// fed to the segmenter, and written where it decides.
extension PackagingJob {
    func demux(inputs: [any PacketSource], runs: [TrackRun], segmenter: inout Segmenter) throws {
        var byStream: [[Int: TrackRun]] = Array(repeating: [:], count: inputs.count)
        for run in runs { byStream[run.plan.input][run.plan.info.index] = run }
        var pending: [Packet?] = inputs.map { _ in nil }
        func refill(_ i: Int) throws {
            let packet = pending[i] ?? Packet()
            pending[i] = nil
            while try inputs[i].read(into: packet) == .packet {
                if byStream[i][packet.streamIndex] != nil { pending[i] = packet; return }
            }
        }
        for i in inputs.indices { try refill(i) }
        // One time origin per input, so its tracks stay in sync: the anchor track's first usable
        // sample (first video's first IDR/BLA picture, else first audio sample). Packets read
        // before it is known are held and replayed.
        var origins: [MediaTime?] = inputs.indices.map { i in
            runs.contains { $0.plan.input == i && $0.plan.kind != .text } ? nil : .zero(timescale: 1)
        }
        let anchors: [TrackRun?] = inputs.indices.map { i in
            runs.first { $0.plan.input == i && $0.plan.kind == .video } ?? runs.first { $0.plan.input == i && $0.plan.kind == .audio }
        }
        var held: [[Packet]] = inputs.map { _ in [] }
        func deliver(_ packet: Packet, input i: Int) throws {
            let run = byStream[i][packet.streamIndex]!
            // Audio the container marks as not presented (priming before the edit list's start) is
            // left out, and never chosen as the origin, so split and muxed inputs sync alike.
            if run.plan.kind == .audio && packet.isDiscard { return }
            if origins[i] == nil {
                if run === anchors[i], let time = packet.pts ?? packet.dts,
                   run.plan.kind != .video || (packet.isKeyframe && independentStart(packet, run)) {
                    origins[i] = time
                    let waiting = held[i]
                    held[i] = []
                    for early in waiting { try accept(early, run: byStream[i][early.streamIndex]!, origin: time, segmenter: &segmenter, runs: runs) }
                } else {
                    if run !== anchors[i] { held[i].append(try packet.makeReference()) }
                    if held[i].count > 100_000 {
                        throw PackagerError(.unsupportedInput, "no decodable starting picture in the first 100000 packets",
                                            file: inputs[i].url)
                    }
                    return
                }
            }
            try accept(packet, run: run, origin: origins[i]!, segmenter: &segmenter, runs: runs)
        }
        let durations = inputs.map { $0.container.duration?.seconds ?? 0 }
        let referenceInput = runs.first { $0.plan.number == segmenter.reference }?.plan.input
        var lastReported = -1.0
        while true {
            var best: Int? = nil
            var bestTime: MediaTime? = nil
            for i in inputs.indices {
                guard let packet = pending[i], let raw = packet.dts ?? packet.pts else {
                    if pending[i] != nil { best = i; break }
                    continue
                }
                // Inputs are merged on their own timelines (each from its origin), so one input's
                // large timestamps do not make another input wait.
                let time = origins[i].map { raw - $0 } ?? raw
                if bestTime == nil || time < bestTime! { best = i; bestTime = time }
            }
            guard let i = best, let packet = pending[i] else { break }
            try deliver(packet, input: i)
            if let progress, let time = bestTime, durations[i] > 0 {
                let fraction = min(1, max(0, time.seconds / durations[i]))
                if fraction - lastReported >= 0.005 { lastReported = fraction; progress(fraction, time.seconds) }
            }
            try refill(i)
            if let reference = referenceInput, reference == i, pending[i] == nil {
                try perform(segmenter.endReference(), runs: runs)
            }
        }
        // An input whose anchor never produced a usable sample: its held packets cannot be timed.
        for i in inputs.indices where origins[i] == nil && anchors[i] != nil {
            throw PackagerError(.unsupportedInput, "no decodable starting picture or sample", file: inputs[i].url)
        }
        progress?(1, durations.max() ?? 0)
    }

    /// Normalises one packet's timing against its input's `origin` and feeds it to the
    /// segmenter (or the cue list). Samples before the origin are dropped.
    func accept(_ packet: Packet, run: TrackRun, origin: MediaTime, segmenter: inout Segmenter,
                        runs: [TrackRun]) throws {
        guard let pts = packet.ptsTicks ?? packet.dtsTicks else { return }
        let dts = packet.dtsTicks ?? pts
        let base = packet.timeBase
        if run.plan.kind == .text {
            let payload = packet.bytes
            let text = WebVTT.text(codec: run.plan.info.codec, payload: payload)
            guard !text.isEmpty, packet.durationTicks > 0 else { return }
            let start = MediaTime(value: pts, timeBase: base) - origin
            run.cues.append(Cue(start: start, end: start + MediaTime(value: packet.durationTicks, timeBase: base), text: text))
            return
        }
        let independent = run.plan.kind != .video || (packet.isKeyframe && independentStart(packet, run))
        if run.firstPTS == nil {
            // Video starts at its first independent picture; anything before it cannot be decoded.
            if run.plan.kind == .video && !independent { return }
            // Nothing is presented before the input's origin (decode times cannot be negative).
            if MediaTime(value: pts, timeBase: base) < origin { return }
            run.firstPTS = pts
            run.firstDTS = dts
            try prepareOutput(run, packet: packet)
        }
        let converted = run.conversion == .none ? packet : try packet.replacingPayload(run.conversion.convert(packet.bytes))
        let firstPTS = run.firstPTS!, firstDTS = run.firstDTS!
        if packet.durationTicks > 0 { run.lastPacketDuration = packet.durationTicks }
        let isSync = independent
        // The track may start after the origin (audio beginning later): keep that offset.
        let lead = MediaTime(value: firstPTS, timeBase: base) - origin
        let originTicks = origin.ticks(of: base)
        let sample = SampleTiming(track: run.plan.number,
                                  pts: MediaTime(value: pts, timeBase: base) - origin,
                                  dts: MediaTime(value: dts, timeBase: base) - origin,
                                  duration: MediaTime(value: max(packet.durationTicks, 0), timeBase: base),
                                  isKeyframe: isSync, size: converted.size)
        let decodeTime = rescale(MediaTime(value: dts - firstDTS, timeBase: base) + lead, run)
        let offset = run.plan.kind == .video ? rescale((pts - dts) - (firstPTS - firstDTS), run) : 0
        let end = sample.pts + sample.duration
        if run.end == nil || end > run.end! { run.end = end }
        let presentationDTS = run.plan.kind == .video ? dts - originTicks : pts - originTicks
        let original = try packet.makeReference()
        if run.captions != nil { packet.withUnsafeBytes { run.captions!.scan($0) } }
        run.queue.append(QueuedSample(packet: converted === packet ? original : converted, original: tsWriters.isEmpty ? nil : original,
                                      decodeTime: decodeTime, offset: offset, sync: isSync, pts: pts - originTicks, dts: presentationDTS))
        let actions = segmenter.push(sample)
        clearLead?.record(segmenter.boundaries)
        try perform(actions, runs: runs)
    }

    /// Creates a track's init segment and writer at its first sample, converting MPEG-TS style
    /// payloads (Annex B, ADTS) for CMAF.
    func prepareOutput(_ run: TrackRun, packet: Packet) throws {
        guard let directory, let parameters = run.parameters else { return }
        let plan = run.plan
        let initSegment: InitSegment
        do {
            (run.conversion, run.parameters, initSegment) = try InitSegment.prepare(
                parameters: parameters, timeBase: plan.info.timeBase, language: plan.language, name: plan.inputPath, firstPacket: packet)
        } catch { throw error.naming(file: plan.inputPath, stream: plan.info.index) }
        run.initSegment = initSegment
        guard writesCMAF else { return }
        var encryptor: TrackEncryptor?
        if let common = options.commonEncryption, let key = trackKeys[plan.number] {
            do {
                let made = try TrackEncryptor(scheme: common.scheme, key: key, iv: common.iv(for: key), isVideo: plan.kind == .video,
                                              codec: plan.info.codec, extradata: run.parameters?.extradata ?? [], rendition: plan.folder)
                let pssh = common.psshInInit ? try common.psshBoxes(for: key) : []
                run.initSegment!.bytes = try InitSegment.protect(initSegment.bytes, isVideo: plan.kind == .video,
                                                                 sinf: made.protectionSchemeInfo(originalFormat:),
                                                                 clearEntry: clearLead != nil, pssh: pssh).bytes
                encryptor = made
            } catch var error as PackagerError {
                if error.file == nil { error.file = plan.inputPath }
                throw error
            } catch { throw error.naming(file: plan.inputPath, stream: plan.info.index) }
        }
        let naming = SegmentNaming(folder: plan.folder, byTime: options.timeBasedNames, fileExtension: "m4s")
        if !options.singleFile { try directory.write(naming.initPath, run.initSegment!.bytes) }
        run.writer = CMAFTrackWriter(timescale: initSegment.timescale, isVideo: plan.kind == .video,
                                     directory: directory, naming: naming, encryption: options.encryption,
                                     singleFile: options.singleFile, encryptor: encryptor, clearLead: clearLead)
        if eventCarriers.contains(plan.number) { run.writer?.eventMessages = eventMessages }
    }

    func independentStart(_ packet: Packet, _ run: TrackRun) -> Bool {
        packet.startsIndependently(codec: run.plan.info.codec, extradata: run.parameters?.extradata ?? [], lengthSize: run.lengthSize)
    }

    /// A time → ticks of the track's media timescale.
    func rescale(_ time: MediaTime, _ run: TrackRun) -> Int64 {
        guard let timescale = run.initSegment?.timescale else { return time.value }
        return time.rescaled(to: timescale).value
    }

    /// Ticks of the stream time base → ticks of the track's media timescale.
    func rescale(_ ticks: Int64, _ run: TrackRun) -> Int64 {
        rescale(MediaTime(value: ticks, timeBase: run.plan.info.timeBase), run)
    }

    func perform(_ actions: [Segmenter.Action], runs: [TrackRun]) throws {
        try SegmentDispatch.perform(actions, tracks: runs, transport: tsWriters)
    }
}
