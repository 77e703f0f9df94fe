import KerfCore
import KerfMedia

/// The data streams of an MPEG-TS input, read in one pass before packaging: SCTE-35 sections
/// (FFmpeg's mpegts demuxer gives the splice PID as a data stream, codec `scte_35`, one section
/// per packet), so the segmenter knows every splice point before it reaches it, and timed ID3
/// tags (codec `timed_id3`), so each goes into the segment it falls in.
struct DataStreamScan {
    /// A section and when it applies on the input's own timeline (90 kHz): its splice time
    /// after pts_adjustment, or for splice_immediate and untimed signals the packet's time.
    struct Found {
        var section: SpliceInfoSection
        var bytes: [UInt8]
        var time: MediaTime
    }

    var found: [Found] = []
    /// Timed ID3 tags and their presentation times on the input's timeline.
    var tags: [(time: MediaTime, bytes: [UInt8])] = []
    /// The first video keyframe's time (else the first audio packet's), the origin the
    /// packager will measure the presentation from.
    var origin: MediaTime?
    /// Sections that could not be read: one line each.
    var problems: [String] = []

    /// Whether `tracks` carry SCTE-35.
    static func hasSplices(_ tracks: [TrackInfo]) -> Bool { tracks.contains { $0.codec == "scte_35" } }
    /// Whether `tracks` carry timed ID3 metadata.
    static func hasTimedMetadata(_ tracks: [TrackInfo]) -> Bool { tracks.contains { $0.codec == "timed_id3" } }

    /// Reads `url` through and keeps its splice_info_sections.
    /// - Throws: `MediaError` when the input cannot be read.
    init(url: String) throws {
        let input = try MediaInput(url: url)
        let spliceStreams = Set(input.tracks.filter { $0.codec == "scte_35" }.map(\.index))
        let tagStreams = Set(input.tracks.filter { $0.codec == "timed_id3" }.map(\.index))
        let video = input.tracks.first { $0.mediaType == .video }?.index
        let anchor = video ?? input.tracks.first { $0.mediaType == .audio }?.index
        let packet = Packet()
        var lastTime: MediaTime?
        while try input.read(into: packet) == .packet {
            let index = packet.streamIndex
            if index == anchor, origin == nil, index != video || packet.isKeyframe { origin = packet.pts ?? packet.dts }
            if tagStreams.contains(index) {
                if let time = packet.pts ?? packet.dts ?? lastTime, let tag = ID3Tag.repaired(packet.bytes) {
                    tags.append((time, tag))
                } else {
                    problems.append("\(url): timed ID3 packet \(tags.count + 1) holds no ID3 tag; left out")
                }
                continue
            }
            guard spliceStreams.contains(index) else {
                if index == video, let time = packet.pts ?? packet.dts { lastTime = time }
                continue
            }
            let bytes = packet.bytes
            let section: SpliceInfoSection
            do { section = try SpliceInfoSection.parse(bytes) } catch {
                problems.append("\(url): SCTE-35 section \(found.count + problems.count + 1) is unreadable (\(error.reason)); left out")
                continue
            }
            if section.command == .null { continue }
            let arrival = packet.pts ?? lastTime
            // The section's 33-bit time, unwrapped to the demuxer's timeline near its arrival.
            let time: MediaTime
            if let ticks = section.spliceTime, let arrival {
                time = SpliceInfoSection.unwrapped(ticks, near: arrival)
            } else if let ticks = section.spliceTime {
                time = SpliceInfoSection.mediaTime(ticks)
            } else if let arrival {
                time = arrival.rescaled(to: SpliceInfoSection.clockRate)
            } else {
                continue
            }
            found.append(Found(section: section, bytes: bytes, time: time))
        }
    }
}
