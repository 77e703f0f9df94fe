import KerfCore
import KerfCrypto

/// Apple SAMPLE-AES of elementary streams ("MPEG-2 Stream Encryption Format for HTTP Live
/// Streaming", §2): AES-128-CBC without padding, restarting from the IV in each protected
/// block (a NAL unit, an audio frame).
///
/// - H.264 (Annex B access units): NAL units of type 1 and 5 longer than 48 bytes. The NAL
///   unit header byte and the 31 bytes after it stay clear; then one 16-byte block is
///   encrypted and up to nine (144 bytes) are left clear, repeating while more than 16 bytes
///   remain, so a last block of 16 bytes or fewer stays clear. The bytes encrypted are those
///   of the NAL unit as it is stored, emulation prevention bytes included, and emulation
///   prevention is then applied to the whole encrypted unit (its clear bytes too, so an
///   existing 00 00 03 becomes 00 00 03 03): a player removes emulation prevention once,
///   decrypts, and hands the decoder the unit as it was — what FFmpeg's HLS demuxer
///   (`hls_sample_encryption.c`), Shaka Packager and Bento4 do.
/// - AAC in ADTS: the header (7 or 9 bytes) and the next 16 bytes stay clear, then every
///   whole 16-byte block is encrypted; the 0 to 15 bytes left stay clear. No emulation
///   prevention.
struct SampleAESCipher {
    /// NAL units this long or shorter stay clear.
    static let smallNALUnit = 48
    /// The NAL unit header byte and the unencrypted leader.
    static let clearLeader = 32

    private let cipher: SampleCipher
    let iv: [UInt8]

    /// - Throws: `CryptoError` from OpenSSL.
    init(key: AES128Key, iv: [UInt8]) throws {
        precondition(iv.count == 16)
        cipher = try SampleCipher(key: key, mode: .cbc)
        self.iv = iv
    }

    /// An Annex B access unit with its slice NAL units encrypted; start codes and every other
    /// NAL unit are kept byte for byte.
    func encryptAccessUnit(_ bytes: [UInt8]) throws -> [UInt8] {
        let units = Self.nalUnitRanges(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var copied = 0
        for unit in units {
            let type = bytes[unit.lowerBound] & 0x1f
            guard (type == 1 || type == 5) && unit.count > Self.smallNALUnit else { continue }
            out += bytes[copied..<unit.lowerBound]
            out += try encryptNALUnit(Array(bytes[unit]))
            copied = unit.upperBound
        }
        out += bytes[copied...]
        return out
    }

    /// One slice NAL unit (header byte first, as stored), encrypted and escaped.
    func encryptNALUnit(_ nal: [UInt8]) throws -> [UInt8] {
        guard nal.count > Self.smallNALUnit else { return nal }
        var unit = nal
        // A block is encrypted only while more than 16 bytes remain: the range ends one byte
        // early so SampleCipher's "a whole block remains" is that rule.
        let protected = Self.clearLeader..<(nal.count - 1)
        try cipher.applyCBC(&unit, ranges: [protected], iv: iv, crypt: 1, skip: 9)
        return AnnexB.addingEmulationPrevention(unit)
    }

    /// Encrypts the ADTS frames of `bytes` in place (a PES payload: whole frames back to back).
    /// - Throws: `.unsupportedInput` when the bytes are not whole ADTS frames.
    func encryptADTSFrames(_ bytes: inout [UInt8]) throws {
        var ranges: [Range<Int>] = []
        var at = 0
        while at < bytes.count {
            guard let frame = Self.adtsFrame(bytes, at: at) else {
                throw PackagerError(.unsupportedInput, "AAC audio in MPEG-TS is not ADTS frames", reason: "no ADTS frame at byte \(at) of a PES packet")
            }
            // Frames of less than 16 bytes past the clear leader (silence) stay clear.
            if frame.length >= frame.header + 32 { ranges.append((at + frame.header + 16)..<(at + frame.length)) }
            at += frame.length
        }
        try cipher.applyCBC(&bytes, ranges: ranges, iv: iv, crypt: 0, skip: 0)
    }

    /// The header size (7, or 9 with a CRC) and the whole length of the ADTS frame at `at`;
    /// nil when there is none.
    static func adtsFrame(_ bytes: [UInt8], at: Int) -> (header: Int, length: Int)? {
        guard at + 7 <= bytes.count, bytes[at] == 0xff, bytes[at + 1] & 0xf6 == 0xf0 else { return nil }
        let header = bytes[at + 1] & 1 == 1 ? 7 : 9
        let length = Int(bytes[at + 3] & 0x03) << 11 | Int(bytes[at + 4]) << 3 | Int(bytes[at + 5]) >> 5
        guard length >= header, at + length <= bytes.count else { return nil }
        return (header, length)
    }

    /// The AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) an ADTS header describes:
    /// audioObjectType = profile + 1, the sampling frequency index and the channel configuration.
    static func audioSpecificConfig(adts bytes: [UInt8], at: Int) -> [UInt8] {
        let objectType = Int(bytes[at + 2] >> 6) + 1
        let frequency = Int(bytes[at + 2] >> 2 & 0x0f)
        let channels = Int(bytes[at + 2] & 1) << 2 | Int(bytes[at + 3] >> 6)
        let value = objectType << 11 | frequency << 7 | channels << 3
        return [UInt8(value >> 8), UInt8(value & 0xff)]
    }

    /// The NAL units of an Annex B byte stream, as ranges of `bytes` without start codes and
    /// without trailing zero bytes.
    static func nalUnitRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var units: [Range<Int>] = []
        var start: Int?
        var i = 0
        func close(at end: Int) {
            guard let s = start else { return }
            var e = end
            while e > s, bytes[e - 1] == 0 { e -= 1 }
            if e > s { units.append(s..<e) }
        }
        while i + 2 < bytes.count {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                close(at: i)
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        close(at: bytes.count)
        return units
    }
}
