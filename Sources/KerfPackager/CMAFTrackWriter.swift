import KerfCore
import KerfMedia

/// Writes the CMAF segments of one track: collects samples, starts a fragment at each video
/// keyframe, and on completion writes `styp` + fragments as one segment file.
///
/// A sample's duration is the distance to the next sample's decode time, so the last sample of
/// a segment is only closed when the next one (or the end) arrives; `complete` is therefore
/// deferred to the next `append` or to `finish`.
final class CMAFTrackWriter {
    let trackID: UInt32 = 1
    let timescale: Int64
    let isVideo: Bool
    private let directory: PackageDirectory
    private let naming: SegmentNaming
    private let encryption: SegmentEncryption?

    private(set) var segments: [SegmentRecord] = []
    private(set) var keyframes: [KeyframeRecord] = []
    private var openSegment: Int?
    private var fragments: [Fragment] = []
    private var completionPending = false
    private var sequenceNumber: UInt32 = 0
    /// Decode time and duration of the last sample appended, for closing it.
    private var lastDecodeTime: Int64?
    private var lastDuration: Int64 = 0

    init(timescale: Int64, isVideo: Bool, directory: PackageDirectory, naming: SegmentNaming,
         encryption: SegmentEncryption?) {
        self.timescale = timescale
        self.isVideo = isVideo
        self.directory = directory
        self.naming = naming
        self.encryption = encryption
    }

    /// Adds one sample to segment `segment` (0-based).
    /// - Parameters:
    ///   - decodeTime: on the track's decode timeline starting at 0, in `timescale`.
    ///   - compositionOffset: presentation minus decode time, in `timescale`.
    func append(segment: Int, decodeTime: Int64, compositionOffset: Int64, isSync: Bool,
                bytes: UnsafeRawBufferPointer) throws {
        if let last = lastDecodeTime { closeLastSample(duration: decodeTime - last) }
        if let open = openSegment, completionPending || open != segment {
            try writeSegment(open)
        }
        if openSegment == nil {
            openSegment = segment
            fragments = [Fragment()]
        }
        if isVideo && isSync && !(fragments.last?.isEmpty ?? true) { fragments.append(Fragment()) }
        fragments[fragments.count - 1].append(
            FragmentSample(decodeTime: decodeTime, duration: 0, size: bytes.count, isSync: isSync,
                           compositionOffset: compositionOffset), bytes: bytes)
        lastDecodeTime = decodeTime
    }

    /// Marks the open segment complete; it is written when the next sample closes its last one.
    func complete() { completionPending = true }

    /// Writes the last segment. `lastDuration` closes the final sample (0: reuse the previous).
    func finish(lastDuration duration: Int64) throws {
        guard let open = openSegment else { return }
        closeLastSample(duration: duration > 0 ? duration : lastDuration)
        try writeSegment(open)
    }

    private func closeLastSample(duration: Int64) {
        guard !fragments.isEmpty, let index = fragments[fragments.count - 1].samples.indices.last else { return }
        fragments[fragments.count - 1].samples[index].duration = duration
        if duration > 0 { lastDuration = duration }
    }

    private func writeSegment(_ index: Int) throws {
        let number = index + 1
        let first = fragments.first { !$0.isEmpty }
        let start = fragments.flatMap(\.samples).map { $0.decodeTime + $0.compositionOffset }.min() ?? 0
        let path = naming.mediaPath(number: number, time: start)
        var w = BoxWriter()
        w.bytes.append(contentsOf: Fragment.segmentType)
        for fragment in fragments where !fragment.isEmpty {
            sequenceNumber += 1
            let offset = w.bytes.count
            let moofSize = fragment.serialize(sequenceNumber: sequenceNumber, trackID: trackID, into: &w)
            if isVideo, let key = fragment.samples.first, key.isSync {
                let next = fragment.endDecodeTime
                keyframes.append(KeyframeRecord(path: path, offset: offset, length: moofSize + 8 + key.size,
                                                start: key.decodeTime + key.compositionOffset,
                                                duration: next - key.decodeTime, timescale: timescale))
            }
        }
        let decodeStart = first?.baseDecodeTime ?? 0
        let decodeEnd = fragments.last?.endDecodeTime ?? decodeStart
        var bytes = w.bytes
        if let encryption {
            bytes = try encryption.encrypt(bytes, segmentNumber: number)
            keyframes.removeAll()  // byte ranges into CBC-encrypted segments are not decodable
        }
        try directory.write(path, bytes)
        segments.append(SegmentRecord(number: number, path: path, start: start, duration: decodeEnd - decodeStart,
                                      timescale: timescale, size: bytes.count, offset: 0))
        fragments = []
        openSegment = nil
        completionPending = false
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
    func mediaPath(number: Int, time: Int64) -> String {
        byTime ? "\(folder)/seg_t\(time).\(fileExtension)" : "\(folder)/seg_\(number).\(fileExtension)"
    }
    /// The DASH SegmentTemplate `media` attribute matching `mediaPath`.
    var mediaTemplate: String { byTime ? "seg_t$Time$.\(fileExtension)" : "seg_$Number$.\(fileExtension)" }
}
