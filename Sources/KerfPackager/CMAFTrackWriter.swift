#if canImport(Glibc)
import Glibc
#endif
import KerfCore
import KerfMedia
import KerfSystem

/// Writes the CMAF segments of one track: collects samples, starts a fragment at each video
/// keyframe, and writes each fragment (`moof` + `mdat`) into its segment file as soon as the
/// next one starts, so at most one GOP of payloads is held in memory. Without a directory
/// (live), each segment is assembled in memory and handed to `onSegment` when it closes.
///
/// A sample's duration is the distance to the next sample's decode time, so the last sample of
/// a fragment is only closed when the next one (or the end) arrives; `complete` is therefore
/// deferred to the next `append` or to `finish`.
final class CMAFTrackWriter {
    let trackID: UInt32 = 1
    let timescale: Int64
    let isVideo: Bool
    private let directory: PackageDirectory?
    /// Receives each completed segment (record and bytes) when there is no directory.
    private let onSegment: ((SegmentRecord, [UInt8]) -> Void)?
    /// Live low latency: a fragment is closed once it lasts `partDuration` (timescale units) and
    /// handed to `onPart` as a partial segment (LL-HLS EXT-X-PART, LL-DASH chunk).
    private let partDuration: Int64?
    private let onPart: ((PartRecord, [UInt8]) -> Void)?
    private var partIndex = 0
    private let naming: SegmentNaming
    private let encryption: SegmentEncryption?
    /// Common Encryption of the samples (`cenc`/`cbcs`), and the segments left clear at the start.
    private let encryptor: TrackEncryptor?
    /// Key rotation (live): the encryptor of each segment's key period replaces `encryptor`.
    private var rotating: RotatingEncryptor? = nil
    private let clearLead: ClearLead?
    private let singleFile: Bool
    /// Single-file mode: segments are appended to one part file, assembled at the end.
    private var partFile: FileByteSink?

    private(set) var segments: [SegmentRecord] = []
    /// Events not written yet (timed ID3 tags, splices), in order of time: each goes as an emsg
    /// where its placement says.
    var eventMessages: [EventMessage] = []
    /// The schemes of the emsg boxes written, in order of first use.
    private(set) var eventSchemes: [String] = []
    private var eventMessageCount: UInt32 = 0
    private(set) var keyframes: [KeyframeRecord] = []
    private var completionPending = false
    private var sequenceNumber: UInt32 = 0
    /// The fragment being filled (its last sample is still open).
    private var fragment = Fragment()
    /// Decode time of the last sample appended, and the last known sample duration.
    private var lastDecodeTime: Int64?
    private var lastDuration: Int64 = 0

    /// The segment being written.
    private struct OpenSegment {
        var index: Int
        var path: String
        var start: Int64
        var decodeStart: Int64
        var decodeEnd: Int64
        /// Bytes of the segment written so far (its size when complete).
        var size: Int
        /// Where the segment starts in the single file, 0 otherwise.
        var offset: Int
        var sink: FileByteSink?
        /// Encrypted segments are assembled here and encrypted whole.
        var buffer: [UInt8]?
    }
    private var segmentIndex: Int?
    private var open: OpenSegment?

    init(timescale: Int64, isVideo: Bool, directory: PackageDirectory, naming: SegmentNaming,
         encryption: SegmentEncryption?, singleFile: Bool = false, encryptor: TrackEncryptor? = nil, clearLead: ClearLead? = nil) {
        self.timescale = timescale
        self.isVideo = isVideo
        self.directory = directory
        self.naming = naming
        self.encryption = encryption
        self.encryptor = encryptor
        self.clearLead = clearLead
        self.singleFile = singleFile
        self.onSegment = nil
        self.partDuration = nil
        self.onPart = nil
    }

    /// A writer that keeps segments in memory and hands each one to `onSegment` as it closes:
    /// at the first sample of the next segment, whose start gives the closed one's duration.
    /// - Parameters:
    ///   - partDuration: with `onPart`, the partial segment target in timescale units.
    init(timescale: Int64, isVideo: Bool, naming: SegmentNaming, partDuration: Int64? = nil, encryptor: TrackEncryptor? = nil,
         rotating: RotatingEncryptor? = nil, onPart: ((PartRecord, [UInt8]) -> Void)? = nil,
         onSegment: @escaping (SegmentRecord, [UInt8]) -> Void) {
        self.rotating = rotating
        self.timescale = timescale
        self.isVideo = isVideo
        self.directory = nil
        self.naming = naming
        self.encryption = nil
        self.encryptor = encryptor
        self.clearLead = nil
        self.singleFile = false
        self.onSegment = onSegment
        self.partDuration = partDuration
        self.onPart = onPart
    }

    /// Adds one sample to segment `segment` (0-based).
    /// - Parameters:
    ///   - decodeTime: on the track's decode timeline starting at 0, in `timescale`.
    ///   - compositionOffset: presentation minus decode time, in `timescale`.
    func append(segment: Int, decodeTime: Int64, compositionOffset: Int64, isSync: Bool,
                packet: Packet) throws {
        if let last = lastDecodeTime { closeLastSample(duration: decodeTime - last) }
        if let current = segmentIndex, completionPending || current != segment {
            try flushFragment()
            try closeSegment(nextStart: decodeTime + compositionOffset)
        }
        if segmentIndex == nil { segmentIndex = segment }
        if isVideo && isSync && !fragment.isEmpty { try flushFragment() }
        // A partial segment is due when this sample would take the fragment past the target
        // (parts stay within EXT-X-PART-INF's PART-TARGET): the fragment so far becomes one.
        if let partDuration, !fragment.isEmpty, decodeTime + max(lastDuration, 1) - fragment.baseDecodeTime > partDuration {
            try flushFragment()
        }
        // trun/mdat fields are 32-bit: start a new fragment before one could overflow them.
        if fragment.payloadSize + packet.size > Int(Int32.max) - 4096 { try flushFragment() }
        fragment.append(FragmentSample(decodeTime: decodeTime, duration: 0, size: packet.size, isSync: isSync,
                                       compositionOffset: compositionOffset), packet: packet)
        lastDecodeTime = decodeTime
    }

    /// Marks the open segment complete; it is closed when the next sample closes its last one.
    func complete() { completionPending = true }

    /// Writes the last segment. `lastDuration` closes the final sample (0: reuse the previous).
    func finish(lastDuration duration: Int64) throws {
        guard segmentIndex != nil else { return }
        closeLastSample(duration: duration > 0 ? duration : lastDuration)
        try flushFragment()
        try closeSegment()
        // Durations on the presentation timeline: each segment lasts until the next one starts,
        // so EXTINF and SegmentTimeline are continuous even when decode and presentation
        // times differ slightly (millisecond timestamps, B-frame reordering).
        for i in segments.indices.dropLast() {
            segments[i].duration = segments[i + 1].start - segments[i].start
        }
    }

    private func closeLastSample(duration: Int64) {
        guard let index = fragment.samples.indices.last else { return }
        fragment.samples[index].duration = duration
        if duration > 0 { lastDuration = duration }
    }

    /// Writes the emsg boxes due before the fragment being flushed: those whose time falls
    /// before its end, and in a segment's first fragment, the splices at or before its start
    /// (timed at that start).
    private func emitEventMessages(firstOfSegment: Bool, segmentStart: MediaTime) throws {
        let fragmentEnd = MediaTime(value: fragment.endDecodeTime, timescale: timescale)
        var kept: [EventMessage] = []
        for message in eventMessages {
            var at: MediaTime?
            switch message.placement {
            case .fragment:
                // One read late (its time before the segment's start) is timed at the start.
                if message.time < fragmentEnd { at = max(message.time, segmentStart) }
            case .segmentStart(let tolerance):
                if firstOfSegment, message.time <= segmentStart + tolerance { at = segmentStart }
            }
            guard let at else {
                kept.append(message)
                continue
            }
            eventMessageCount += 1
            if !eventSchemes.contains(message.scheme) { eventSchemes.append(message.scheme) }
            try emit(message.box(timescale: timescale, at: at, fallbackID: eventMessageCount))
        }
        eventMessages = kept
    }

    /// Writes the current fragment into the open segment, opening the segment first if needed.
    private func flushFragment() throws {
        guard !fragment.isEmpty, let index = segmentIndex else { return }
        if open == nil { try openSegment(index) }
        if onSegment != nil {
            // Live: the fragment's decode time in milliseconds (increasing, and the same on every
            // origin that packages the same input on the same timeline).
            sequenceNumber = max(sequenceNumber &+ 1, UInt32(truncatingIfNeeded: fragment.baseDecodeTime * 1000 / max(timescale, 1)))
        } else {
            sequenceNumber += 1
        }
        // Common Encryption: the samples are encrypted here, once their segment is known; a
        // clear-lead segment's fragments name the clear sample entry (2) instead.
        var protection: FragmentEncryption?
        var descriptionIndex: UInt32?
        if var encryptor {
            if clearLead?.isClear(segment: index) == true {
                descriptionIndex = 2
            } else {
                // Under key rotation the segment's period chooses the key, named in a seig group.
                var keyGroup: [UInt8]?, pssh: [UInt8] = []
                if let rotating {
                    (encryptor, pssh) = try rotating.encryptor(forSegmentStart: MediaTime(value: open!.start, timescale: timescale))
                    keyGroup = encryptor.sampleGroupEntry
                }
                // Samples are encrypted in their packets' buffers, then written as clear ones are.
                let entries = try zip(fragment.packets, fragment.samples).map { try encryptor.encrypt($0, decodeTime: $1.decodeTime) }
                if let large = entries.first(where: { $0.auxiliarySize > 255 }) {
                    throw PackagerError(.unsupportedInput, "a sample has \(large.subsamples?.count ?? 0) subsamples, more than saiz can describe (41)",
                                        reason: "too many NAL units in one sample for Common Encryption")
                }
                protection = FragmentEncryption(entries: entries, usesSubsamples: encryptor.usesSubsamples, keyGroup: keyGroup, psshBoxes: pssh)
            }
        }
        let partStart = open!.size
        try emitEventMessages(firstOfSegment: open!.decodeEnd == open!.decodeStart,
                              segmentStart: MediaTime(value: open!.start, timescale: timescale))
        var w = BoxWriter()
        let moofSize = fragment.serializeHeader(sequenceNumber: sequenceNumber, trackID: trackID, encryption: protection,
                                                sampleDescriptionIndex: descriptionIndex, into: &w)
        if isVideo, encryption == nil, directory != nil, let key = fragment.samples.first, key.isSync {
            keyframes.append(KeyframeRecord(path: open!.path, offset: open!.offset + open!.size,
                                            length: moofSize + 8 + key.size,
                                            start: MediaTime(value: key.decodeTime + key.compositionOffset, timescale: timescale),
                                            duration: MediaTime(value: fragment.endDecodeTime - key.decodeTime, timescale: timescale)))
        }
        try emitFragment(header: w.bytes, packets: fragment.packets)
        open!.decodeEnd = fragment.endDecodeTime
        if let onPart, let buffer = open!.buffer {
            // The first part carries the segment's styp: the parts put end to end are the segment.
            let from = partIndex == 0 ? 0 : partStart
            onPart(PartRecord(segment: index, segmentStart: MediaTime(value: open!.start, timescale: timescale), index: partIndex,
                              duration: MediaTime(value: fragment.endDecodeTime - fragment.baseDecodeTime, timescale: timescale),
                              independent: fragment.samples.first?.isSync ?? false), Array(buffer[from...]))
            partIndex += 1
        }
        fragment = Fragment()
    }

    private func openSegment(_ index: Int) throws {
        let start = fragment.samples.map { $0.decodeTime + $0.compositionOffset }.min() ?? 0
        let path = singleFile ? naming.singleFilePath : naming.mediaPath(number: index + 1, time: start)
        var segment = OpenSegment(index: index, path: path, start: start, decodeStart: fragment.baseDecodeTime,
                                  decodeEnd: fragment.baseDecodeTime, size: 0, offset: 0)
        if encryption != nil || directory == nil {
            segment.buffer = []
        } else if singleFile {
            if partFile == nil { partFile = try FileByteSink(path: try directory!.path(naming.singleFilePath + ".part")) }
            segment.sink = partFile
            segment.offset = Int(partFile!.position)
        } else {
            segment.sink = try FileByteSink(path: try directory!.path(path))
        }
        open = segment
        try emit(Fragment.segmentType)
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }

    /// A fragment's `moof` and `mdat` header and its payloads: one gathering write into a file.
    private func emitFragment(header: [UInt8], packets: [Packet]) throws {
        guard open!.buffer == nil, let sink = open!.sink else {
            try emit(header)
            for packet in packets { try packet.withUnsafeBytes { try emit($0) } }
            return
        }
        let before = sink.position
        try header.withUnsafeBytes { header in
            try Packet.withUnsafeBytes(of: packets) { try sink.write(gathering: [header] + $0) }
        }
        open!.size += Int(sink.position - before)
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        if open!.buffer != nil {
            open!.buffer!.append(contentsOf: bytes)
        } else {
            try open!.sink!.write(bytes)
        }
        open!.size += bytes.count
    }

    /// - Parameter nextStart: presentation start of the following segment, when known.
    private func closeSegment(nextStart: Int64? = nil) throws {
        defer {
            segmentIndex = nil
            open = nil
            completionPending = false
            partIndex = 0
        }
        guard let segment = open else { return }
        let number = segment.index + 1
        let duration = nextStart.map { $0 - segment.start } ?? (segment.decodeEnd - segment.decodeStart)
        var record = SegmentRecord(number: number, path: segment.path, start: MediaTime(value: segment.start, timescale: timescale),
                                   duration: MediaTime(value: duration, timescale: timescale), size: segment.size, offset: segment.offset)
        if let onSegment, let buffer = segment.buffer {
            onSegment(record, buffer)
            return
        }
        if let encryption, let buffer = segment.buffer, let directory {
            let bytes = try encryption.encrypt(buffer, segmentNumber: number)
            record.size = bytes.count
            try directory.write(segment.path, bytes)
        } else if !singleFile {
            try segment.sink?.close()
        }
        segments.append(record)
    }
}

extension CMAFTrackWriter {
    /// Single-file mode: writes `init + sidx + segments` as one file and moves every recorded
    /// offset past the header. Returns the byte ranges of the init segment and the sidx.
    func assembleSingleFile(initSegment: [UInt8]) throws -> (initRange: ClosedRange<Int>, indexRange: ClosedRange<Int>)? {
        guard singleFile, let part = partFile, let first = segments.first else { return nil }
        try part.close()
        // sidx fields: 16-bit reference count, 31-bit sizes, 32-bit durations.
        guard segments.count <= Int(UInt16.max),
              segments.allSatisfy({ $0.size < 1 << 31 && $0.duration.value >= 0 && $0.duration.value <= Int64(UInt32.max) }) else {
            throw PackagerError(.unsupportedInput, "too many or too large segments for one sidx",
                                reason: "\(segments.count) segments; use a longer --segment-duration or no --single-file")
        }
        let index = SegmentIndex.serialize(
            trackID: trackID, timescale: UInt32(timescale), earliestPresentationTime: first.start.value,
            references: segments.map { .init(size: $0.size, duration: $0.duration.value, startsWithSAP: true) })
        let header = initSegment.count + index.count
        guard let directory else { return nil }
        let finalPath = try directory.path(naming.singleFilePath)
        let output = try FileByteSink(path: finalPath)
        try initSegment.withUnsafeBytes { try output.write($0) }
        try index.withUnsafeBytes { try output.write($0) }
        try copy(from: part.path, to: output)
        try output.close()
        unlink(part.path)
        for i in segments.indices { segments[i].offset += header }
        for i in keyframes.indices { keyframes[i].offset += header }
        return (0...(initSegment.count - 1), initSegment.count...(header - 1))
    }

    private func copy(from path: String, to output: FileByteSink) throws {
        let input: SystemFile
        do throws(SystemError) { input = try .open(path, O_RDONLY | O_CLOEXEC) } catch {
            throw PackagerError(error, "cannot read back segments")
        }
        defer { try? input.close() }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count: Int
            do throws(SystemError) { count = try input.read(into: &buffer) } catch {
                throw PackagerError(error, "cannot read back segments")
            }
            guard count > 0 else { return }
            try buffer.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }
}

/// File names of a rendition's segments.
struct SegmentNaming: Sendable {
    /// Folder of the rendition inside the package ("video_720p").
    var folder: String
    /// Name segments by presentation time (`$Time$`) instead of number.
    var byTime: Bool
    var fileExtension: String

    var initPath: String { "\(folder)/init.mp4" }
    /// The one file of a rendition in single-file mode.
    var singleFilePath: String { "\(folder)/\(folder).mp4" }
    func mediaPath(number: Int, time: Int64) -> String {
        byTime ? "\(folder)/seg_t\(time).\(fileExtension)" : "\(folder)/seg_\(number).\(fileExtension)"
    }
    /// The DASH SegmentTemplate `media` attribute matching `mediaPath`.
    var mediaTemplate: String { byTime ? "seg_t$Time$.\(fileExtension)" : "seg_$Number$.\(fileExtension)" }
}
