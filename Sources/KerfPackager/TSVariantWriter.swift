import KerfCore
import KerfMedia

/// Writes the MPEG-TS segments of one HLS variant: its video track and one audio track muxed
/// together, one libavformat `mpegts` muxer per segment.
///
/// libavformat converts AVC/HEVC to Annex B with parameter sets before every keyframe
/// (`h264_mp4toannexb`) and wraps AAC in ADTS. Timestamps are the package's normalised
/// timeline shifted by `timestampOffset`, so B-frame decode times stay positive.
final class TSVariantWriter {
    /// The MPEG-TS time of presentation time zero (10 s).
    static let timestampOffset = MediaTime(value: 10, timescale: 1)

    struct Member {
        var track: Int
        var parameters: CodecParameters
        var timeBase: Rational
        var language: String?
    }

    let folder: String
    private let members: [Member]
    private let directory: PackageDirectory
    private let cipher: SegmentEncryption?
    private var open: [Int: (output: MediaOutput, sink: MemoryByteSink, pending: Set<Int>)] = [:]
    private(set) var segments: [Int: (size: Int, path: String)] = [:]

    init(folder: String, members: [Member], directory: PackageDirectory, cipher: SegmentEncryption?) {
        self.folder = folder
        self.members = members
        self.directory = directory
        self.cipher = cipher
    }

    func handles(track: Int) -> Bool { members.contains { $0.track == track } }
    var trackNumbers: [Int] { members.map(\.track) }

    /// Writes a copy of `packet` with presentation/decode times `pts`/`dts` (normalised, in the
    /// packet's time base) into segment `segment`.
    func append(track: Int, segment: Int, packet: Packet, pts: Int64, dts: Int64) throws {
        guard let memberIndex = members.firstIndex(where: { $0.track == track }) else { return }
        let muxer = try output(for: segment)
        let copy = try packet.makeReference()
        let offset = Self.timestampOffset.ticks(of: members[memberIndex].timeBase)
        copy.ptsTicks = pts + offset
        copy.dtsTicks = dts + offset
        try muxer.write(copy, toStream: memberIndex)
    }

    /// Track `track` has written everything of `segment`; the file is closed when all have.
    func complete(track: Int, segment: Int) throws {
        guard handles(track: track), var entry = open[segment] else { return }
        entry.pending.remove(track)
        open[segment] = entry
        if entry.pending.isEmpty { try close(segment) }
    }

    /// Closes every segment still open (end of input).
    func finish() throws {
        for segment in open.keys.sorted() { try close(segment) }
    }

    private func output(for segment: Int) throws -> MediaOutput {
        if let entry = open[segment] { return entry.output }
        let sink = MemoryByteSink()
        let output = try MediaOutput(format: "mpegts", sink: sink, name: "\(folder)/seg_\(segment + 1).ts")
        for member in members {
            try output.addStream(parameters: member.parameters, timeBase: member.timeBase, language: member.language)
        }
        try output.writeHeader(options: ["mpegts_copyts": "1", "avoid_negative_ts": "disabled",
                                         "mpegts_flags": "+initial_discontinuity"])
        open[segment] = (output, sink, Set(members.map(\.track)))
        return output
    }

    private func close(_ segment: Int) throws {
        guard let entry = open.removeValue(forKey: segment) else { return }
        try entry.output.finish()
        let path = "\(folder)/seg_\(segment + 1).ts"
        var bytes = entry.sink.bytes
        if let cipher { bytes = try cipher.encrypt(bytes, segmentNumber: segment + 1) }
        try directory.write(path, bytes)
        segments[segment] = (bytes.count, path)
    }
}
