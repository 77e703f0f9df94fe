import KerfCore
import KerfCrypto
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
    /// Called with each warning worth printing even in machine-readable mode: a splice moved to
    /// a later keyframe, an unreadable SCTE-35 section.
    public var warning: (@Sendable (String) -> Void)?

    var tsWriters: [TSVariantWriter] = []
    var directory: PackageDirectory?
    var writesCMAF = true
    /// The events the segments carry as emsg (the inputs' timed ID3 tags; with
    /// `--dash-events inband`, the splices), and the tracks that carry them (every video track;
    /// without video, every audio track).
    var eventMessages: [EventMessage] = []
    var eventCarriers: Set<Int> = []
    /// Segments left clear at the start under Common Encryption (nil without a clear lead).
    var clearLead: ClearLead?
    /// The content key of each protected track, and how it is signalled, by plan number.
    var trackKeys: [Int: ContentKey] = [:]
    var protections: [Int: ContentProtection] = [:]

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
    final class TrackRun: QueuedTrack {
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
        var queue = SampleQueue<QueuedSample>()
        var cues: [Cue] = []
        var textSegments: [SegmentRecord] = []
        /// Byte ranges of the init segment and the sidx in single-file mode.
        var singleFileRanges: (initRange: ClosedRange<Int>, indexRange: ClosedRange<Int>)?
        /// Reads every video sample's SEI for closed captions.
        var captions: CaptionScanner?

        init(plan: PlannedTrack, parameters: CodecParameters?) {
            self.plan = plan
            self.parameters = parameters
            // Only what is read can be said to have none (CLOSED-CAPTIONS=NONE): AV1 is not read.
            if plan.kind == .video, CaptionScanner.reads(codec: plan.info.codec) {
                captions = CaptionScanner(codec: plan.info.codec, extradata: plan.info.extradata)
            }
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
        if options.cuePeriods && options.singleFile {
            throw PackagerError(.invalidOptions, "--cue-periods cannot be combined with --single-file",
                                reason: "a single file per track is indexed as one Period")
        }
        if options.encryption != nil && options.singleFile {
            throw PackagerError(.invalidOptions, "--single-file cannot be combined with --encrypt",
                                reason: "AES-128 encrypts whole segment files")
        }
        let writesCMAF = options.formats.contains(.hls) || options.formats.contains(.dash)
        let plans = try PlannedTrack.plan(inputs: inputs.map { ($0.url, $0.tracks) }, selection: options.selection)
        if let common = options.commonEncryption {
            try checkCommonEncryption(common, plans: plans)
            if common.clearLead.value > 0 { clearLead = ClearLead(duration: common.clearLead) }
        }
        guard plans.contains(where: { $0.kind != .text }) else {
            throw PackagerError(.unsupportedInput, "no audio or video track to package", file: options.inputs.first)
        }
        let directory = try PackageDirectory(destination: options.output, force: options.force)
        self.directory = directory
        self.writesCMAF = writesCMAF
        let runs = plans.map { plan in
            TrackRun(plan: plan, parameters: plan.kind == .text ? nil : inputs[plan.input].codecParameters(track: plan.info.index))
        }
        tsWriters = options.formats.contains(.hlsTS) ? try makeTSWriters(plans: plans, inputs: inputs, directory: directory) : []
        if let encryption = options.encryption, encryption.publishesKey {
            try directory.write("key.bin", encryption.key.bytes)
        }
        if let common = options.commonEncryption, common.publishesKeyFiles, options.formats.contains(.hls) || options.formats.contains(.hlsTS) {
            for key in common.keys { try directory.write(CommonEncryption.keyFile(key), key.key.bytes) }
        }

        var segmenter = Segmenter(target: options.segmentDuration, tracks: Dictionary(uniqueKeysWithValues:
            plans.filter { $0.kind != .text }.map { ($0.number, Segmenter.TrackConfiguration(kind: $0.kind, frameDuration: $0.frameDuration)) }))
        let (splices, tags) = try Self.scanDataStreams(options: options, tracks: try spliceTracks(inputs), notice: warning)
        eventMessages = tags
        for writer in tsWriters { writer.timedMetadata = tags }
        if options.dashEvents.contains(.inband) && options.formats.contains(.dash) {
            // Half a frame of the tracks that carry them, as the segmenter cuts (video, else audio).
            let carrier = plans.first { $0.kind == .video } ?? plans.first { $0.kind == .audio }
            let frame = carrier?.frameDuration ?? MediaTime(value: 1, timescale: 1000)
            eventMessages += splices.eventMessages(tolerance: MediaTime(value: frame.value, timescale: frame.timescale * 2))
            eventMessages.sort { $0.time < $1.time }
        }
        let videos = plans.filter { $0.kind == .video }
        eventCarriers = eventMessages.isEmpty ? [] : Set((videos.isEmpty ? plans.filter { $0.kind == .audio } : videos).map(\.number))
        for point in splices.cutPoints { segmenter.addSplicePoint(point) }
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
        let builder = ManifestBuilder(options: options, runs: runs.map(\.published), timeline: timeline, protections: protections,
                                      tsVariants: tsWriters.map { writer in
                                          TSVariant(folder: writer.folder, tracks: writer.trackNumbers,
                                                    segments: writer.segments.keys.sorted().map { writer.segments[$0]! },
                                                    protection: writer.protection)
                                      },
                                      splices: place(splices, segmenter: segmenter, reference: reference?.plan))
        let summary = try builder.write(into: directory)
        try directory.commit()
        return summary
    }
}

extension PackagingJob {
    /// Each input's streams as its file has them (a transcoder's source lists only what it
    /// makes, not the SCTE-35 stream of the file it reads).
    func spliceTracks(_ inputs: [any PacketSource]) throws -> [[TrackInfo]] {
        try zip(inputs, options.inputs).map { source, path in
            if let input = source as? MediaInput { return input.tracks }
            do { return try MediaInput(url: path).tracks } catch { throw error.naming(file: path) }
        }
    }

    /// Common Encryption covers the CMAF outputs, each audio and video track with a key; with
    /// `cbcs`, the MPEG-TS variants too (Apple SAMPLE-AES: H.264 and AAC, AES-CBC only).
    func checkCommonEncryption(_ common: CommonEncryption, plans: [PlannedTrack]) throws {
        try common.validate()
        if options.encryption != nil {
            throw PackagerError(.invalidOptions, "--encrypt takes one scheme")
        }
        if options.formats.contains(.hlsTS) {
            guard common.scheme == .cbcs else {
                throw PackagerError(.invalidOptions, "--encrypt cenc cannot protect MPEG-TS variants (hls-ts)",
                                    reason: "Apple's SAMPLE-AES for MPEG-TS is AES-CBC only: use --encrypt cbcs, or leave hls-ts out")
            }
            for plan in SegmentDispatch.transportGroups(plans, kind: \.kind).joined()
            where !SampleAESTransportStream.canEncrypt(codec: plan.info.codec) {
                throw PackagerError(.unsupportedInput, "\(plan.info.codec) cannot be encrypted with SAMPLE-AES in MPEG-TS",
                                    reason: "Apple's MPEG-TS sample encryption covers H.264 video and AAC audio; leave hls-ts out to encrypt the CMAF segments only",
                                    file: plan.inputPath)
            }
        }
        for plan in plans where plan.kind != .text {
            guard let key = try common.key(for: plan.kind, track: plan.info, name: plan.folder) else {
                throw PackagerError(.invalidOptions, "no key for the \(plan.kind) track \(plan.folder)",
                                    reason: "give --key \(plan.kind)=<kid>:<key> or --key <kid>:<key> for every track")
            }
            trackKeys[plan.number] = key
            let protection = try common.protection(for: key)
            if (options.formats.contains(.hls) || options.formats.contains(.hlsTS)) && protection.keyURI == nil
                && !protection.systems.contains(where: { $0.hls != nil }) {
                throw PackagerError(.invalidOptions, "no DRM system signals the key of \(plan.folder) in HLS",
                                    reason: "add clearkey, widevine, playready or fairplay to --drm, or HLS signalling to the CPIX document")
            }
            protections[plan.number] = protection
        }
    }
}
