import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import KerfCore
import KerfCrypto
import KerfManifest
import KerfMedia

/// What one media segment really contains, read back through KerfMedia.
struct InspectedSegment: Sendable {
    var uri: String
    var size: Int
    /// Presentation time of the first and end of the last sample, in seconds, from the video
    /// track, else the first audio track; nil for text-only segments, whose cues legitimately
    /// overlap segment boundaries.
    var start: Double?
    var end: Double?
    /// The first video sample (in decode order) is a keyframe; nil when there is no video.
    var startsWithKeyframe: Bool?
    var frameDuration: Double?
    var codecs: [String]
    var width: Int?
    var height: Int?
}

/// Reads the segments of a local media playlist for `--deep` checks.
final class SegmentInspector {
    let playlistPath: String
    /// The last init segment read: every segment after an EXT-X-MAP shares it.
    private var cachedMap: (map: HLSMap, bytes: [UInt8])?

    init(playlistPath: String) { self.playlistPath = playlistPath }

    func mapBytes(_ map: HLSMap) throws -> [UInt8] {
        if let cachedMap, cachedMap.map == map { return cachedMap.bytes }
        let bytes = try read(map.uri, range: map.byteRange)
        cachedMap = (map, bytes)
        return bytes
    }

    /// Inspects `segment` (with the EXT-X-MAP that applies to it), decrypting AES-128 segments
    /// whose key file is local.
    /// - Returns: nil when the segment cannot be read at all (reported by the caller).
    func inspect(_ segment: MediaSegment, map: HLSMap?, key: HLSKey?, sequence: UInt64) throws -> InspectedSegment? {
        var bytes = try read(segment.uri, range: segment.byteRange)
        if let key, key.method == .aes128 {
            guard let uri = key.uri, !uri.contains("://") else { return nil }
            let keyBytes = try read(uri, range: nil)
            let cipher = SegmentCipher(key: try AES128Key(bytes: keyBytes))
            let iv = try key.iv.map { try AES128Key(hex: $0) } ?? AES128Key.sequenceIV(sequence)
            bytes = try cipher.decrypt(bytes, iv: iv)
        }
        let size = bytes.count
        if let map { bytes = try mapBytes(map) + bytes }
        let input = try MediaInput(source: MemoryByteSource(bytes: bytes), name: segment.uri)
        var result = InspectedSegment(uri: segment.uri, size: size, codecs: input.tracks.compactMap(\.codecString))
        let video = input.tracks.first { $0.mediaType == .video }
        result.width = video?.width
        result.height = video?.height
        result.frameDuration = video?.frameRate.map { 1 / $0.doubleValue }
        let timed = video ?? input.tracks.first { $0.mediaType == .audio }
        let packet = Packet()
        while try input.read(into: packet) == .packet {
            guard let pts = packet.pts?.seconds else { continue }
            let end = pts + (packet.duration?.seconds ?? 0)
            if packet.streamIndex == video?.index, result.startsWithKeyframe == nil { result.startsWithKeyframe = packet.isKeyframe }
            if packet.streamIndex == timed?.index {
                result.start = min(result.start ?? pts, pts)
                result.end = max(result.end ?? end, end)
            }
        }
        return result
    }

    /// Reads a whole resource, or only `range` of it (without loading the rest).
    func read(_ uri: String, range: ByteRange?) throws -> [UInt8] {
        let path = Validator.sibling(of: playlistPath, uri)
        guard let range else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError(file: path, message: "cannot read segment")
            }
            return [UInt8](data)
        }
        let start = range.offset ?? 0
        let (end, overflow) = start.addingReportingOverflow(range.length)
        guard !overflow, start >= 0, range.length >= 0, range.length <= 1 << 31 else {
            throw ValidationError(file: path, message: "byte range \(range.length)@\(start) is not a usable range")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ValidationError(file: path, message: "cannot read segment") }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: range.length)
        var done = 0
        while done < range.length {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, range.length - done, off_t(start + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ValidationError(file: path, message: "byte range \(range.length)@\(start) is past the end of the file (ends before \(end))")
            }
            done += n
        }
        return bytes
    }
}
