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
    /// Common Encryption found in the segment (nil for clear and whole-segment AES-128 ones).
    var protection: SegmentProtection?
}

/// A segment whose bytes do not decrypt (HLS AES-128 with a wrong key: bad padding).
struct DecryptionFailure: Error, CustomStringConvertible {
    var description: String
}

/// Reads the segments of a media playlist for `--deep` checks, from disk or over HTTP, and
/// decrypts them: AES-128 segments with the key at their URI (or the bare `--key`), Common
/// Encryption samples with the `--key` of their key ID (or the key an identity key URI serves).
final class SegmentInspector {
    /// Where the playlist was read from: segment URIs resolve against it.
    let base: String
    let loader: ResourceLoader
    let maxBytes: Int
    let keys: DecryptionKeys
    /// The last init segment read: every segment after an EXT-X-MAP shares it.
    private var cachedMap: (map: HLSMap, bytes: [UInt8], protection: InitProtection?)?
    private var cachedKey: (uri: String, key: AES128Key?)?
    /// Every sample of the first decrypted segment is decoded, the first ones of the others.
    private var decodeExtent = SegmentInspector.DecodeExtent.all

    init(base: String, loader: ResourceLoader, maxBytes: Int, keys: DecryptionKeys = DecryptionKeys()) {
        self.base = base
        self.loader = loader
        self.maxBytes = maxBytes
        self.keys = keys
    }

    func mapBytes(_ map: HLSMap) async throws -> [UInt8] {
        try await initSegment(map).bytes
    }

    /// The init segment of `map` and how it describes protection (nil without a `moov`).
    func initSegment(_ map: HLSMap) async throws -> (bytes: [UInt8], protection: InitProtection?) {
        if let cachedMap, cachedMap.map == map { return (cachedMap.bytes, cachedMap.protection) }
        let bytes = try await read(map.uri, range: map.byteRange)
        let protection = InitProtection.parse(bytes)
        cachedMap = (map, bytes, protection)
        return (bytes, protection)
    }

    /// Inspects `segment` (with the EXT-X-MAP and the EXT-X-KEY tags that apply to it),
    /// decrypting what the keys allow.
    /// - Returns: nil when the segment is AES-128 encrypted with a key that cannot be read.
    /// - Throws: `DecryptionFailure` when an AES-128 segment does not decrypt; anything else
    ///   when the segment cannot be read.
    func inspect(_ segment: MediaSegment, map: HLSMap?, keys hlsKeys: [HLSKey], sequence: UInt64) async throws -> InspectedSegment? {
        var bytes = try await read(segment.uri, range: segment.byteRange)
        if let key = hlsKeys.first(where: { $0.method == .aes128 }) {
            var aesKey: AES128Key?
            if let uri = key.uri { aesKey = await self.key(uri) }
            guard let aesKey = aesKey ?? keys.bareKey else { return nil }
            let iv = try key.iv.map { try AES128Key(hex: $0) } ?? AES128Key.sequenceIV(sequence)
            do { bytes = try SegmentCipher(key: aesKey).decrypt(bytes, iv: iv) } catch {
                throw DecryptionFailure(description: "does not decrypt with its AES-128 key: \(error.message)")
            }
        }
        let size = bytes.count
        var protection: SegmentProtection?
        var start = 0
        if let map {
            let (initBytes, initProtection) = try await initSegment(map)
            bytes = initBytes + bytes
            start = initBytes.count
            if let initProtection, initProtection.isProtected {
                var ring = keys
                // KEYFORMAT "identity": the URI serves the key of the samples' key IDs.
                if let identity = hlsKeys.first(where: { ($0.method == .sampleAES || $0.method == .sampleAESCTR) && ($0.keyFormat ?? "identity") == "identity" }),
                   let uri = identity.uri, let served = await self.key(uri) {
                    for (_, entry) in initProtection.protectedEntries {
                        if let kid = entry.encryption?.keyID { ring = ring.adding(served, for: kid) }
                    }
                }
                protection = SegmentProtection(outcome: FragmentDecryptor(protection: initProtection, keys: ring).decrypt(&bytes, segmentStart: start))
                FragmentDecryptor.hideAuxiliaryInformation(&bytes)
            }
        } else if let key = hlsKeys.first(where: { $0.method == .sampleAES }), bytes.first == 0x47 {
            protection = try await transportStream(bytes, key: key, name: segment.uri, sequence: sequence)
        }
        var result = try Self.inspect(bytes, name: segment.uri, size: size)
        if var protection {
            if protection.outcome.decryptedSamples > 0 {
                protection.decodeFailure = Self.decodeFailure(bytes, name: segment.uri, trackIDs: protection.outcome.decryptedTracks,
                                                              extent: decodeExtent)
                decodeExtent = .first
            }
            result.protection = protection
        }
        return result
    }

    /// SAMPLE-AES MPEG-TS: with the key of an identity key URI or the bare `--key`, the first
    /// samples of each H.264 and AAC track are decrypted and decoded; without a key, nothing.
    private func transportStream(_ bytes: [UInt8], key: HLSKey, name: String, sequence: UInt64) async throws -> SegmentProtection {
        var protection = SegmentProtection()
        var aesKey: AES128Key?
        if let uri = key.uri, (key.keyFormat ?? "identity") == "identity" { aesKey = await self.key(uri) }
        guard let aesKey = aesKey ?? keys.bareKey else {
            protection.sampleAESTransportStream = true
            return protection
        }
        let iv = try key.iv.map { try AES128Key(hex: $0) } ?? AES128Key.sequenceIV(sequence)
        let cipher = try SampleCipher(key: aesKey, mode: .cbc, encrypting: false)
        defer { decodeExtent = .first }
        protection.decodeFailure = Self.decodeFailure(bytes, name: name, extent: decodeExtent,
                                                      tracks: { $0.codec == "h264" || $0.codec == "aac" }) {
            (track, payload) throws(CryptoError) -> [UInt8] in
            if track.codec == "h264" { return try SampleAESDecryption.h264(payload, cipher: cipher, iv: iv.bytes) }
            return try SampleAESDecryption.adts(payload, cipher: cipher, iv: iv.bytes)
        }
        return protection
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

    /// The AES-128 key at `uri`, or nil when it cannot be read or is not 16 bytes. `data:`
    /// URIs are not read: Shaka Packager, for one, puts the key ID there, not the key.
    private func key(_ uri: String) async -> AES128Key? {
        if let cachedKey, cachedKey.uri == uri { return cachedKey.key }
        var key: AES128Key?
        if !uri.lowercased().hasPrefix("data:"), let bytes = try? await read(uri, range: nil) { key = try? AES128Key(bytes: bytes) }
        cachedKey = (uri, key)
        return key
    }

    /// Reads a whole resource, or only `range` of it.
    func read(_ uri: String, range: ByteRange?) async throws(LoadFailure) -> [UInt8] {
        try await loader.load(ResourceLoader.resolve(uri, against: base), range: range, limit: maxBytes).bytes
    }
}
