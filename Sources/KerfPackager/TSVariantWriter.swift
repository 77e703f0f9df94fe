import KerfCore
import KerfMedia

/// Writes the MPEG-TS segments of one HLS variant: its video track and one audio track muxed
/// together, one libavformat `mpegts` muxer per segment.
///
/// libavformat converts AVC/HEVC to Annex B with parameter sets before every keyframe
/// (`h264_mp4toannexb`) and wraps AAC in ADTS. Timestamps are the caller's shifted by
/// `timestampOffset`: a VOD package's normalised timeline starts at 10 s so B-frame decode times
/// stay positive; a live channel's timeline (Unix time) is written as it is, modulo 2^33 as
/// MPEG-TS wraps it.
///
/// Completed segments go to `store`, which returns the size it stored (after encryption: a
/// package's segments may be encrypted with SAMPLE-AES, then or else with AES-128).
final class TSVariantWriter {
    /// The MPEG-TS time of a VOD package's presentation time zero (10 s).
    static let packageTimestampOffset = MediaTime(value: 10, timescale: 1)

    struct Member {
        var track: Int
        var parameters: CodecParameters
        var timeBase: Rational
        var language: String?
    }

    let folder: String
    private let members: [Member]
    private let timestampOffset: MediaTime
    /// Live: segments before the one the lead track completed are closed whatever the other
    /// members did (a package waits for every member: its inputs may interleave loosely).
    private let closesBehindLead: Bool
    /// Samples for segments before this (closed behind the lead) are dropped.
    private var closedBefore = 0
    private let store: (_ segment: Int, _ path: String, _ bytes: [UInt8]) throws -> Int
    private var open: [Int: (output: MediaOutput, sink: MemoryByteSink, pending: Set<Int>)] = [:]
    /// What was stored, by segment index (a package's writer only: a live one would grow).
    private(set) var segments: [Int: (size: Int, path: String)] = [:]
    private var keepsRecords = false
    /// How the segments are protected with SAMPLE-AES (nil when they are not), for playlists.
    private(set) var protection: ContentProtection?
    /// With timed ID3: the stream that carries the tags (after the members), and the tags not
    /// written yet, in order of time (presentation time, on the timeline of the members' times).
    private let metadataParameters: CodecParameters?
    var timedMetadata: [EventMessage] = []
    /// The time of the last tag written: a later tag timed before it (read late) goes at it, as
    /// a muxer takes no stream's timestamps going back.
    private var lastMetadataTicks: Int64?

    /// - Parameter carriesMetadata: the segments have a timed ID3 stream (`timedMetadata`).
    init(folder: String, members: [Member], timestampOffset: MediaTime = packageTimestampOffset, closesBehindLead: Bool = false,
         carriesMetadata: Bool = false, store: @escaping (_ segment: Int, _ path: String, _ bytes: [UInt8]) throws -> Int) throws(MediaError) {
        self.folder = folder
        self.members = members
        self.timestampOffset = timestampOffset
        self.closesBehindLead = closesBehindLead
        self.store = store
        metadataParameters = carriesMetadata ? try CodecParameters.timedID3() : nil
    }

    /// A writer for a package: segments are encrypted when asked (SAMPLE-AES with
    /// `sampleAES`, whole-segment AES-128 with `cipher`) and written to `directory`.
    convenience init(folder: String, members: [Member], directory: PackageDirectory, cipher: SegmentEncryption?,
                     sampleAES: TransportSampleEncryption? = nil, carriesMetadata: Bool = false) throws(MediaError) {
        try self.init(folder: folder, members: members, carriesMetadata: carriesMetadata) { segment, path, bytes in
            let samples = try sampleAES?.stream.encrypt(bytes) ?? bytes
            let stored = try cipher?.encrypt(samples, segmentNumber: segment + 1) ?? samples
            try directory.write(path, stored)
            return stored.count
        }
        keepsRecords = true
        protection = sampleAES?.protection
    }

    func handles(track: Int) -> Bool { members.contains { $0.track == track } }
    var trackNumbers: [Int] { members.map(\.track) }

    /// Writes a copy of `packet` with presentation/decode times `pts`/`dts` (normalised, in the
    /// packet's time base) into segment `segment`.
    func append(track: Int, segment: Int, packet: Packet, pts: Int64, dts: Int64) throws {
        guard let memberIndex = members.firstIndex(where: { $0.track == track }), segment >= closedBefore else { return }
        let muxer = try output(for: segment)
        if memberIndex == 0 { try writeMetadata(until: MediaTime(value: pts, timeBase: members[0].timeBase), into: muxer) }
        let copy = try packet.makeReference()
        let offset = timestampOffset.ticks(of: members[memberIndex].timeBase)
        copy.ptsTicks = pts + offset
        copy.dtsTicks = dts + offset
        try muxer.write(copy, toStream: memberIndex)
    }

    /// Track `track` has written everything of `segment`; the file is closed when all have.
    func complete(track: Int, segment: Int) throws {
        guard handles(track: track) else { return }
        // A member that stopped (audio gone for a whole segment) must not hold segments open: when
        // the lead track completes a segment, the ones before it are closed as they are.
        if closesBehindLead, track == members.first?.track {
            for older in open.keys.sorted() where older < segment { try close(older) }
            closedBefore = max(closedBefore, segment)
        }
        guard var entry = open[segment] else { return }
        entry.pending.remove(track)
        open[segment] = entry
        if entry.pending.isEmpty { try close(segment) }
    }

    /// Closes every segment still open (end of input); tags after the last lead sample go into
    /// the last segment.
    func finish() throws {
        if let last = open.keys.max(), let muxer = open[last]?.output { try writeMetadata(until: nil, into: muxer) }
        for segment in open.keys.sorted() { try close(segment) }
    }

    /// Writes the ID3 tags timed at or before `time` (nil: all) as PES packets of the metadata stream.
    private func writeMetadata(until time: MediaTime?, into muxer: MediaOutput) throws {
        guard metadataParameters != nil else { return }
        let index = members.count
        while let tag = timedMetadata.first, time.map({ tag.time <= $0 }) ?? true {
            timedMetadata.removeFirst()
            let packet = try Packet(bytes: tag.data)
            let ticks = max((tag.time + timestampOffset).ticks(of: Self.metadataTimeBase), lastMetadataTicks ?? .min)
            lastMetadataTicks = ticks
            packet.ptsTicks = ticks
            packet.dtsTicks = ticks
            try muxer.write(packet, toStream: index)
        }
    }

    /// The metadata stream's time base (the MPEG-TS clock).
    private static let metadataTimeBase = Rational(1, 90_000)

    private func output(for segment: Int) throws -> MediaOutput {
        if let entry = open[segment] { return entry.output }
        let sink = MemoryByteSink()
        let output = try MediaOutput(format: "mpegts", sink: sink, name: "\(folder)/seg_\(segment + 1).ts")
        for member in members {
            try output.addStream(parameters: member.parameters, timeBase: member.timeBase, language: member.language)
        }
        if let metadataParameters { try output.addStream(parameters: metadataParameters, timeBase: Self.metadataTimeBase) }
        try output.writeHeader(options: ["mpegts_copyts": "1", "avoid_negative_ts": "disabled",
                                         "mpegts_flags": "+initial_discontinuity"])
        open[segment] = (output, sink, Set(members.map(\.track)))
        return output
    }

    private func close(_ segment: Int) throws {
        guard let entry = open.removeValue(forKey: segment) else { return }
        try entry.output.finish()
        let path = "\(folder)/seg_\(segment + 1).ts"
        let size = try store(segment, path, entry.sink.bytes)
        if keepsRecords { segments[segment] = (size, path) }
    }
}
