import FoundationEssentials
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

/// Reads the segments of a media playlist for `--deep` checks, from disk or over HTTP.
final class SegmentInspector {
    /// Where the playlist was read from: segment URIs resolve against it.
    let base: String
    let loader: ResourceLoader
    let maxBytes: Int
    /// The last init segment read: every segment after an EXT-X-MAP shares it.
    private var cachedMap: (map: HLSMap, bytes: [UInt8])?
    private var cachedKey: (uri: String, key: AES128Key)?

    init(base: String, loader: ResourceLoader, maxBytes: Int) {
        self.base = base
        self.loader = loader
        self.maxBytes = maxBytes
    }

    func mapBytes(_ map: HLSMap) async throws -> [UInt8] {
        if let cachedMap, cachedMap.map == map { return cachedMap.bytes }
        let bytes = try await read(map.uri, range: map.byteRange)
        cachedMap = (map, bytes)
        return bytes
    }

    /// Inspects `segment` (with the EXT-X-MAP that applies to it), decrypting AES-128 segments
    /// whose key can be read.
    /// - Returns: nil when the segment is encrypted with a key that cannot be read.
    func inspect(_ segment: MediaSegment, map: HLSMap?, key: HLSKey?, sequence: UInt64) async throws -> InspectedSegment? {
        var bytes = try await read(segment.uri, range: segment.byteRange)
        if let key, key.method == .aes128 {
            guard let uri = key.uri, let aesKey = await self.key(uri) else { return nil }
            let iv = try key.iv.map { try AES128Key(hex: $0) } ?? AES128Key.sequenceIV(sequence)
            bytes = try SegmentCipher(key: aesKey).decrypt(bytes, iv: iv)
        }
        let size = bytes.count
        if let map { bytes = try await mapBytes(map) + bytes }
        return try Self.inspect(bytes, name: segment.uri, size: size)
    }

    /// Reads the media in `bytes` (init segment first when there is one).
    /// - Parameter size: the size of the media segment alone, for bit rates.
    static func inspect(_ bytes: [UInt8], name: String, size: Int) throws -> InspectedSegment {
        let input = try MediaInput(source: MemoryByteSource(bytes: bytes), name: name)
        var result = InspectedSegment(uri: name, size: size, codecs: input.tracks.compactMap(\.codecString))
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
        // fMP4: the boxes give exact presentation times (see FragmentTiming).
        if let timed, timed.timeBase.numerator > 0,
           let range = FragmentTiming.presentationRange(bytes, trackID: timed.containerID.map { UInt32(truncatingIfNeeded: $0) }) {
            let tick = Double(timed.timeBase.numerator) / Double(timed.timeBase.denominator)
            result.start = Double(range.start) * tick
            result.end = Double(range.end) * tick
        }
        return result
    }

    /// The AES-128 key at `uri`, or nil when it cannot be read or is not 16 bytes.
    private func key(_ uri: String) async -> AES128Key? {
        if let cachedKey, cachedKey.uri == uri { return cachedKey.key }
        guard let bytes = try? await read(uri, range: nil), let key = try? AES128Key(bytes: bytes) else { return nil }
        cachedKey = (uri, key)
        return key
    }

    /// Reads a whole resource, or only `range` of it.
    func read(_ uri: String, range: ByteRange?) async throws(LoadFailure) -> [UInt8] {
        try await loader.load(ResourceLoader.resolve(uri, against: base), range: range, limit: maxBytes).bytes
    }
}
