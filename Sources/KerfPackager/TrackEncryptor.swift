import KerfCore
import KerfCrypto
import KerfMedia

/// What `senc` records of one encrypted sample (ISO/IEC 23001-7 §7.2): its IV (empty with a
/// constant IV) and its subsample map (nil when the whole sample is encrypted).
struct SampleEncryptionEntry: Sendable, Equatable {
    var iv: [UInt8]
    var subsamples: [Subsample]?

    /// Bytes of its sample auxiliary information (the `saiz` size).
    var auxiliarySize: Int { iv.count + (subsamples.map { 2 + 6 * $0.count } ?? 0) }
}

/// Encrypts the samples of one CMAF track and describes it in the init segment.
///
/// - `cenc`: AES-CTR; video samples by subsample map (`SubsampleMapper`), audio samples whole.
///   Per-sample IVs of 8 bytes (16 when a 16-byte `--iv` is given): the first sample's IV is
///   `--iv`, or else the first 8 bytes of HMAC-SHA256(key, "kerf cenc iv " + rendition); each
///   next sample's IV is the previous one plus one (8-byte IVs), or plus the number of 16-byte
///   blocks the previous sample encrypted (16-byte IVs), so no counter block is used twice
///   within a track.
/// - `cbcs`: AES-CBC with a constant IV (`--iv`, or else the first 16 bytes of
///   HMAC-SHA256(key, "kerf cbcs iv " + rendition)); video by subsample map with the pattern
///   1:9 (one block encrypted, nine clear), audio whole with the pattern 0:0 (every whole
///   block), a partial last block clear.
///
/// The same key, rendition and samples therefore always give the same bytes.
final class TrackEncryptor {
    let scheme: ProtectionScheme
    let key: ContentKey
    let isVideo: Bool
    /// `tenc` fields.
    let perSampleIVSize: Int
    let constantIV: [UInt8]?
    let cryptBlocks: Int
    let skipBlocks: Int
    private var nextIV: [UInt8]
    /// `cenc` live: each sample's IV is the first IV plus its decode time, so origins that
    /// join a stream at different samples still give every sample the same IV.
    var ivFromDecodeTime = false
    /// The KID written in `tenc` instead of the key's: all zeros under key rotation, where
    /// each fragment names its key in a `seig` sample group.
    var signalledKeyID: [UInt8]?
    private var firstIV: [UInt8] = []
    private var mapper: SubsampleMapper?
    private let cipher: SampleCipher

    /// - Parameters:
    ///   - rendition: the rendition's name (its folder), which IVs are derived from.
    /// - Throws: `PackagerError` for a video codec Kerf cannot encrypt, `CryptoError` from OpenSSL.
    init(scheme: ProtectionScheme, key: ContentKey, iv: [UInt8]?, isVideo: Bool, codec: String, extradata: [UInt8],
         rendition: String) throws {
        self.scheme = scheme
        self.key = key
        self.isVideo = isVideo
        mapper = SubsampleMapper(codec: codec, extradata: extradata, scheme: scheme)
        if isVideo && mapper == nil {
            throw PackagerError(.unsupportedInput, "\(codec) video cannot be encrypted with \(scheme.rawValue) yet",
                                reason: "Common Encryption of H.264 and HEVC only")
        }
        let derived = Self.derivedIV(scheme: scheme, key: key, rendition: rendition)
        switch scheme {
        case .cenc:
            nextIV = iv ?? derived
            firstIV = nextIV
            perSampleIVSize = nextIV.count
            constantIV = nil
            cryptBlocks = 0
            skipBlocks = 0
            cipher = try SampleCipher(key: key.key, mode: .ctr)
        case .cbcs:
            nextIV = []
            perSampleIVSize = 0
            constantIV = iv ?? derived
            cryptBlocks = isVideo ? 1 : 0
            skipBlocks = isVideo ? 9 : 0
            cipher = try SampleCipher(key: key.key, mode: .cbc)
        }
    }

    /// The IV used when `--iv` is not given: the first 8 (`cenc`) or 16 (`cbcs`) bytes of
    /// HMAC-SHA256(key, "kerf <scheme> iv <rendition>").
    static func derivedIV(scheme: ProtectionScheme, key: ContentKey, rendition: String) -> [UInt8] {
        derivedIV(scheme: scheme, keyBytes: key.key.bytes, rendition: rendition)
    }

    /// The first 8 (`cenc`) or 16 (`cbcs`) bytes of HMAC-SHA256(key, "kerf <scheme> iv <rendition>").
    static func derivedIV(scheme: ProtectionScheme, keyBytes: [UInt8], rendition: String) -> [UInt8] {
        let code = HMACSHA256.authenticationCode(key: keyBytes, message: Array("kerf \(scheme.rawValue) iv \(rendition)".utf8))
        return Array(code.prefix(scheme == .cenc ? 8 : 16))
    }

    /// Whether `senc` entries carry subsample maps (the `senc` flag 0x2).
    var usesSubsamples: Bool { mapper != nil }

    /// Encrypts `sample` in place and returns its `senc` entry.
    func encrypt(_ sample: inout [UInt8]) throws -> SampleEncryptionEntry {
        try encrypt(&sample, range: 0..<sample.count)
    }

    /// Encrypts the sample at `range` of `buffer` (a fragment's payload) in place and returns
    /// its `senc` entry.
    func encrypt(_ buffer: inout [UInt8], range: Range<Int>) throws -> SampleEncryptionEntry {
        try buffer.withUnsafeMutableBytes { try encrypt($0, range: range) }
    }

    /// Encrypts a packet's payload in place (copied first if other packets share it) and
    /// returns its `senc` entry.
    func encrypt(_ packet: Packet, decodeTime: Int64) throws -> SampleEncryptionEntry {
        if ivFromDecodeTime && scheme == .cenc {
            // 16-byte IVs keep their low half for the block counter.
            nextIV = firstIV.count == 8 ? Self.add(firstIV, UInt64(bitPattern: decodeTime))
                : Self.add(Array(firstIV.prefix(8)), UInt64(bitPattern: decodeTime)) + firstIV.suffix(8)
        }
        return try packet.withUnsafeMutableBytes { try encrypt($0, range: 0..<$0.count) }
    }

    private func encrypt(_ buffer: UnsafeMutableRawBufferPointer, range: Range<Int>) throws -> SampleEncryptionEntry {
        var ranges: [Range<Int>] = []
        var subsamples: [Subsample]? = nil
        if mapper != nil {
            let map = try mapper!.map(UnsafeRawBufferPointer(buffer)[range])
            var offset = range.lowerBound
            for entry in map {
                ranges.append((offset + entry.clear)..<(offset + entry.clear + entry.protected))
                offset += entry.clear + entry.protected
            }
            subsamples = map
        } else {
            ranges = [range]
        }
        switch scheme {
        case .cenc:
            let iv = nextIV
            try cipher.applyCTR(buffer, ranges: ranges, iv: iv)
            let blocks = ranges.reduce(0) { $0 + ($1.count + 15) / 16 }
            nextIV = Self.add(iv, iv.count == 8 ? 1 : UInt64(blocks))
            return SampleEncryptionEntry(iv: iv, subsamples: subsamples)
        case .cbcs:
            try cipher.applyCBC(buffer, ranges: ranges, iv: constantIV!, crypt: cryptBlocks, skip: skipBlocks)
            return SampleEncryptionEntry(iv: [], subsamples: subsamples)
        }
    }

    /// `iv` + `amount`, big-endian, wrapping at its width.
    static func add(_ iv: [UInt8], _ amount: UInt64) -> [UInt8] {
        var result = iv
        var carry = amount
        var index = result.count - 1
        while carry > 0 && index >= 0 {
            let sum = UInt64(result[index]) + (carry & 0xff)
            result[index] = UInt8(truncatingIfNeeded: sum)
            carry = (carry >> 8) + (sum >> 8)
            index -= 1
        }
        return result
    }

    /// The `sinf` box of the protected sample entry (ISO/IEC 23001-7 §4, §8.2): `frma` with the
    /// original format, `schm` (scheme, version 0x00010000), `schi`/`tenc` (version 0 for
    /// `cenc`, 1 with the pattern for `cbcs`; protected; IV size; default KID; constant IV).
    /// The `seig` sample group entry naming this encryptor's key (ISO/IEC 23001-7 §6):
    /// the `tenc` fields with the key's KID.
    var sampleGroupEntry: [UInt8] {
        var entry: [UInt8] = [0, scheme == .cbcs ? UInt8(cryptBlocks << 4 | skipBlocks) : 0, 1, UInt8(perSampleIVSize)] + key.keyID
        if let constantIV { entry += [UInt8(constantIV.count)] + constantIV }
        return entry
    }

    func protectionSchemeInfo(originalFormat: String) -> [UInt8] {
        var w = BoxWriter()
        w.box("sinf") { s in
            s.box("frma") { $0.fourCC(originalFormat) }
            s.fullBox("schm", version: 0, flags: 0) { b in
                b.fourCC(scheme.rawValue)
                b.u32(0x0001_0000)
            }
            s.box("schi") { i in
                i.fullBox("tenc", version: scheme == .cbcs ? 1 : 0, flags: 0) { t in
                    t.u8(0)
                    t.u8(scheme == .cbcs ? UInt8(cryptBlocks << 4 | skipBlocks) : 0)
                    t.u8(1)  // default_isProtected
                    t.u8(UInt8(perSampleIVSize))
                    t.bytes += signalledKeyID ?? key.keyID
                    if let constantIV {
                        t.u8(UInt8(constantIV.count))
                        t.bytes += constantIV
                    }
                }
            }
        }
        return w.bytes
    }
}
