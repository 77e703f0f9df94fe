import KerfCore
import KerfManifest
import KerfMedia
import Logging

/// Packages pre-encoded inputs into HLS and DASH by stream copy.
///
/// One pass over the inputs: packets are merged across files in decode order, the `Segmenter`
/// decides boundaries, `CMAFTrackWriter`s write segments into a `PackageDirectory`, and when
/// everything is written the manifests are generated and the package is published atomically.
public final class PackagingJob {
    public let options: PackageOptions
    private let logger: Logger
    /// Called with the fraction of the input read (0…1) and the media time reached, in seconds.
    public var progress: (@Sendable (_ fraction: Double, _ mediaSeconds: Double) -> Void)?

    private var tsWriters: [TSVariantWriter] = []
    private var directory: PackageDirectory?
    private var writesCMAF = true

    /// Packet sources replacing the demuxed `options.inputs` (a transcoder), one per input.
    private let sources: [any PacketSource]?

    /// - Parameter sources: where packets come from, one per entry of `options.inputs`; `nil`
    ///   to demux the inputs themselves (stream copy).
    public init(options: PackageOptions, sources: [any PacketSource]? = nil,
                logger: Logger = Logger(label: "kerf.package")) {
        self.options = options
        self.sources = sources
        self.logger = logger
    }

    /// A track being packaged: its plan, writer, timeline origin and queued payloads.
    final class TrackRun {
        let plan: PlannedTrack
        var parameters: CodecParameters?
        /// Created at the first sample (ADTS input needs it to build the AudioSpecificConfig).
        var initSegment: InitSegment?
        var writer: CMAFTrackWriter?
        var conversion = PayloadConversion.none
        /// NAL length-field size of length-prefixed samples (from avcC/hvcC).
        let lengthSize: Int
        /// First presentation and decode timestamps, in stream ticks.
        var firstPTS: Int64?
        var firstDTS: Int64?
        var lastPacketDuration: Int64 = 0
        /// End of the last sample on the normalised presentation timeline.
        var end: MediaTime?
        /// Samples pushed to the segmenter, waiting for its decision.
        var queue = SampleQueue<(packet: Packet, original: Packet, decodeTime: Int64, offset: Int64, sync: Bool, pts: Int64, dts: Int64)>()
        var cues: [Cue] = []
        var textSegments: [SegmentRecord] = []
        /// Byte ranges of the init segment and the sidx in single-file mode.
        var singleFileRanges: (initRange: ClosedRange<Int>, indexRange: ClosedRange<Int>)?

        init(plan: PlannedTrack, parameters: CodecParameters?) {
            self.plan = plan
            self.parameters = parameters
            self.lengthSize = RandomAccess.lengthSize(codec: plan.info.codec, extradata: plan.info.extradata)
        }
    }

    /// Runs the job. On error nothing is published and the staging directory is removed.
    @discardableResult
    public func run() throws -> PackageSummary {
        let inputs: [any PacketSource] = try sources ?? options.inputs.map { path -> MediaInput in
            do { return try MediaInput(url: path) } catch { throw error.naming(file: path) }
        }
        try checkStreamCopy(inputs)
        if options.encryption != nil && options.formats.contains(.dash) {
            throw PackagerError(.invalidOptions, "DASH cannot carry HLS AES-128 whole-segment encryption",
                                reason: "use --formats hls or hls-ts with --encrypt aes-128")
        }
        if options.encryption != nil && options.singleFile {
            throw PackagerError(.invalidOptions, "--single-file cannot be combined with --encrypt",
                                reason: "AES-128 encrypts whole segment files")
        }
        let writesCMAF = options.formats.contains(.hls) || options.formats.contains(.dash)
        let plans = try PlannedTrack.plan(inputs: inputs.map { ($0.url, $0.tracks) }, selection: options.selection)
        guard plans.contains(where: { $0.kind != .text }) else {
            throw PackagerError(.unsupportedInput, "no audio or video track to package", file: options.inputs.first)
        }
        let directory = try PackageDirectory(destination: options.output, force: options.force)
        self.directory = directory
        self.writesCMAF = writesCMAF
        let runs = plans.map { plan in
            TrackRun(plan: plan, parameters: plan.kind == .text ? nil : inputs[plan.input].codecParameters(track: plan.info.index))
        }
        tsWriters = options.formats.contains(.hlsTS) ? makeTSWriters(plans: plans, inputs: inputs, directory: directory) : []
        if let encryption = options.encryption, encryption.publishesKey {
            try directory.write("key.bin", encryption.key.bytes)
        }

        var segmenter = Segmenter(target: options.segmentDuration, tracks: Dictionary(uniqueKeysWithValues:
            plans.filter { $0.kind != .text }.map { ($0.number, Segmenter.TrackConfiguration(kind: $0.kind, frameDuration: $0.frameDuration)) }))
        try demux(inputs: inputs, runs: runs, segmenter: &segmenter)
        let (actions, misalignments) = segmenter.finish()
        try perform(actions, runs: runs)
        if let problem = misalignments.first {
            let track = runs[problem.track].plan, reference = runs[problem.reference].plan
            let at = problem.trackTime.map { "\(hlsDecimal($0)) s" } ?? "no cut"
            let expected = problem.referenceTime.map { "\(hlsDecimal($0)) s" } ?? "no cut"
            throw PackagerError(.needsTranscoding, "renditions are not keyframe-aligned",
                                reason: "\(track.inputPath) cuts segment \(problem.boundary + 2) at \(at) where \(reference.inputPath) cuts at \(expected); re-encode with aligned keyframes (--transcode auto)",
                                file: track.inputPath)
        }
        for run in runs {
            try run.writer?.finish(lastDuration: rescale(run.lastPacketDuration, run))
            if let initSegment = run.initSegment {
                run.singleFileRanges = try run.writer?.assembleSingleFile(initSegment: initSegment.bytes)
            }
        }
        for writer in tsWriters { try writer.finish() }
        try checkSegmentDurations(runs, segmenter: segmenter)

        let reference = runs.first { $0.plan.number == segmenter.reference }
        let timeline = Timeline(boundaries: segmenter.boundaries, end: reference?.end ?? .zero(timescale: 1))
        try writeText(runs, timeline: timeline, directory: directory)
        let builder = ManifestBuilder(options: options, runs: runs.map(\.published), timeline: timeline,
                                      tsVariants: tsWriters.map { writer in
                                          TSVariant(folder: writer.folder, tracks: writer.trackNumbers,
                                                    segments: writer.segments.keys.sorted().map { writer.segments[$0]! })
                                      })
        let summary = try builder.write(into: directory)
        try directory.commit()
        return summary
    }

    // MARK: reading

    private func demux(inputs: [any PacketSource], runs: [TrackRun], segmenter: inout Segmenter) throws {
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
    private func accept(_ packet: Packet, run: TrackRun, origin: MediaTime, segmenter: inout Segmenter,
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
        run.queue.append((converted === packet ? original : converted, original, decodeTime, offset, isSync,
                          pts - originTicks, presentationDTS))
        try perform(segmenter.push(sample), runs: runs)
    }

    /// Creates a track's init segment and writer at its first sample, converting MPEG-TS style
    /// payloads (Annex B, ADTS) for CMAF.
    private func prepareOutput(_ run: TrackRun, packet: Packet) throws {
        guard let directory, let parameters = run.parameters else { return }
        let plan = run.plan
        let initSegment: InitSegment
        do {
            (run.conversion, run.parameters, initSegment) = try InitSegment.prepare(
                parameters: parameters, timeBase: plan.info.timeBase, language: plan.language, name: plan.inputPath, firstPacket: packet)
        } catch { throw error.naming(file: plan.inputPath, stream: plan.info.index) }
        run.initSegment = initSegment
        guard writesCMAF else { return }
        let naming = SegmentNaming(folder: plan.folder, byTime: options.timeBasedNames, fileExtension: "m4s")
        if !options.singleFile { try directory.write(naming.initPath, initSegment.bytes) }
        run.writer = CMAFTrackWriter(timescale: initSegment.timescale, isVideo: plan.kind == .video,
                                     directory: directory, naming: naming, encryption: options.encryption,
                                     singleFile: options.singleFile)
    }

    private func independentStart(_ packet: Packet, _ run: TrackRun) -> Bool {
        packet.startsIndependently(codec: run.plan.info.codec, extradata: run.parameters?.extradata ?? [], lengthSize: run.lengthSize)
    }

    /// A time → ticks of the track's media timescale.
    private func rescale(_ time: MediaTime, _ run: TrackRun) -> Int64 {
        guard let timescale = run.initSegment?.timescale else { return time.value }
        return time.rescaled(to: timescale).value
    }

    /// Ticks of the stream time base → ticks of the track's media timescale.
    private func rescale(_ ticks: Int64, _ run: TrackRun) -> Int64 {
        rescale(MediaTime(value: ticks, timeBase: run.plan.info.timeBase), run)
    }

    private func perform(_ actions: [Segmenter.Action], runs: [TrackRun]) throws {
        for action in actions {
            switch action {
            case .append(let sample, let segment):
                let run = runs[sample.track]
                guard let entry = run.queue.popFirst() else { continue }
                try run.writer?.append(segment: segment, decodeTime: entry.decodeTime, compositionOffset: entry.offset,
                                       isSync: entry.sync, packet: entry.packet)
                for writer in tsWriters where writer.handles(track: sample.track) {
                    try writer.append(track: sample.track, segment: segment, packet: entry.original, pts: entry.pts, dts: entry.dts)
                }
            case .complete(let track, let segment):
                runs[track].writer?.complete()
                for writer in tsWriters { try writer.complete(track: track, segment: segment) }
            }
        }
    }

    // MARK: checks

    private func checkStreamCopy(_ inputs: [any PacketSource]) throws {
        for input in inputs {
            let verdict = StreamCopyVerdict(tracks: input.tracks, gops: [:],
                                            targetSegmentDuration: options.segmentDuration.seconds)
            let inputIndex = inputs.firstIndex { $0 === input } ?? 0
            let selected = input.tracks.filter {
                ($0.mediaType == .video || $0.mediaType == .audio) && options.selection.selects(input: inputIndex, track: $0)
            }
            let blocking = verdict.findings.filter { finding in
                finding.blocking && (finding.track.map { index in selected.contains { $0.index == index } } ?? true)
            }
            // An input that brings only subtitles has no media of its own to judge.
            let hasText = input.tracks.contains { $0.mediaType == .subtitle && options.selection.selects(input: inputIndex, track: $0) }
            let relevant = blocking.filter { !($0.code == .noMediaTracks && hasText) }
            if let none = relevant.first(where: { $0.code == .noMediaTracks }) {
                throw PackagerError(.unsupportedInput, "cannot be packaged", reason: none.message, file: input.url)
            }
            if !relevant.isEmpty {
                throw PackagerError(.needsTranscoding, "cannot be packaged by stream copy",
                                    reason: relevant.map(\.message).joined(separator: "; ") + "; it needs transcoding (--transcode auto)",
                                    file: input.url)
            }
        }
    }

    /// A video segment much longer than the target means GOPs far longer than the target.
    private func checkSegmentDurations(_ runs: [TrackRun], segmenter: Segmenter) throws {
        let limit = options.segmentDuration.seconds * 2
        for run in runs where run.plan.kind == .video {
            let cuts = [MediaTime.zero(timescale: 1)] + segmenter.cuts(track: run.plan.number)
            if let longest = zip(cuts, cuts.dropFirst()).map({ $1 - $0 }).max(), longest.seconds > limit {
                throw PackagerError(.needsTranscoding, "GOP far longer than the segment duration",
                                    reason: "a segment lasts \(hlsDecimal(longest)) s for a \(hlsDecimal(options.segmentDuration)) s target; it needs transcoding (--transcode auto) or a longer --segment-duration",
                                    file: run.plan.inputPath)
            }
        }
    }

    // MARK: MPEG-TS

    /// One TS variant per video track (muxed with the first audio track), or per audio track
    /// when there is no video.
    private func makeTSWriters(plans: [PlannedTrack], inputs: [any PacketSource], directory: PackageDirectory) -> [TSVariantWriter] {
        func member(_ plan: PlannedTrack) -> TSVariantWriter.Member {
            TSVariantWriter.Member(track: plan.number, parameters: inputs[plan.input].codecParameters(track: plan.info.index),
                                   timeBase: plan.info.timeBase, language: plan.language)
        }
        let videos = plans.filter { $0.kind == .video }, audio = plans.first { $0.kind == .audio }
        if videos.isEmpty {
            return plans.filter { $0.kind == .audio }.map {
                TSVariantWriter(folder: "ts_\($0.folder)", members: [member($0)], directory: directory, cipher: options.encryption)
            }
        }
        return videos.map { video in
            TSVariantWriter(folder: "ts_\(video.folder)", members: [member(video)] + (audio.map { [member($0)] } ?? []),
                            directory: directory, cipher: options.encryption)
        }
    }

    // MARK: text

    private func writeText(_ runs: [TrackRun], timeline: Timeline, directory: PackageDirectory) throws {
        // Subtitles are published with the CMAF presentations only (TS variants carry none).
        guard writesCMAF else { return }
        for run in runs where run.plan.kind == .text {
            let folder = run.plan.folder
            var records: [SegmentRecord] = []
            for (index, range) in timeline.segments.enumerated() {
                let cues = WebVTT.cues(run.cues, from: range.start, to: index == timeline.segments.count - 1 ? nil : range.end)
                let path = "\(folder)/seg_\(index + 1).vtt"
                let bytes = Array(WebVTT.document(cues, timestampMap: 0).utf8)
                try directory.write(path, bytes)
                let start = range.start.rescaled(to: 1000), end = range.end.rescaled(to: 1000)
                records.append(SegmentRecord(number: index + 1, path: path, start: start.value, duration: end.value - start.value,
                                             timescale: 1000, size: bytes.count, offset: 0))
            }
            try directory.write("\(folder)/\(folder).vtt", text: WebVTT.document(run.cues, timestampMap: nil))
            run.textSegments = records
        }
    }
}

extension PackagingJob.TrackRun {
    /// Everything manifests need about this track once it is written.
    var published: PublishedTrack {
        PublishedTrack(plan: plan, timescale: initSegment?.timescale ?? 1000,
                       segments: writer?.segments ?? textSegments, keyframes: writer?.keyframes ?? [],
                       singleFileRanges: singleFileRanges)
    }
}

/// Segment boundaries of the presentation, as decided by the reference track.
struct Timeline: Sendable {
    var boundaries: [MediaTime]
    var end: MediaTime

    var segments: [(start: MediaTime, end: MediaTime)] {
        let starts = [MediaTime.zero(timescale: end.timescale)] + boundaries
        return starts.enumerated().map { index, start in
            (start, index + 1 < starts.count ? starts[index + 1] : end)
        }
    }
}

/// A written track as the manifest builder sees it.
struct PublishedTrack: Sendable {
    var plan: PlannedTrack
    var timescale: Int64
    var segments: [SegmentRecord]
    var keyframes: [KeyframeRecord]
    var singleFileRanges: (initRange: ClosedRange<Int>, indexRange: ClosedRange<Int>)?

    var duration: MediaTime {
        segments.last.map { $0.startTime + $0.durationTime } ?? .zero(timescale: timescale)
    }
    var peakBitRate: Int { plan.bandwidth ?? segments.map(\.bitRate).max() ?? 0 }
    var averageBitRate: Int {
        let seconds = segments.reduce(MediaTime.zero(timescale: timescale)) { $0 + $1.durationTime }.seconds
        guard seconds > 0 else { return 0 }
        return Int((Double(segments.reduce(0) { $0 + $1.size }) * 8 / seconds).rounded(.up))
    }
}

extension Error {
    /// Names the file (and stream) on media errors that do not name one yet.
    func naming(file: String, stream: Int? = nil) -> any Error {
        if let media = self as? MediaError { return media.at(file: file, stream: stream) }
        return self
    }
}
