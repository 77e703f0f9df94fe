import KerfCrypto

/// Apple's SAMPLE-AES for MPEG-TS (HLS `METHOD=SAMPLE-AES` on `.ts` segments; Apple, "MPEG-2
/// Stream Encryption Format for HTTP Live Streaming"): AES-128-CBC over parts of each sample,
/// the IV restarting at every NAL unit or audio frame.
/// - H.264: NAL units of types 1 and 5 longer than 48 bytes; without their emulation prevention
///   bytes, 32 bytes stay clear, then one 16-byte block is encrypted in every 160 while more
///   than 16 bytes remain. The decrypted unit is escaped again.
/// - AAC in ADTS: after the header and 16 more bytes, every whole 16-byte block of the frame.
enum SampleAESDecryption {
    /// Decrypts an H.264 access unit in Annex B form.
    static func h264(_ bytes: [UInt8], cipher: SampleCipher, iv: [UInt8]) throws(CryptoError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var copied = 0
        for unit in nalUnits(bytes) {
            let type = bytes[unit.lowerBound] & 0x1f
            guard type == 1 || type == 5, unit.count > 48 else { continue }
            var clear = unescape(bytes[unit])
            let protected = clear.count - 32
            if protected > 16 {
                // A last block with exactly 16 bytes left stays clear, unlike in `cbcs`.
                let length = protected % 160 == 16 ? protected - 1 : protected
                try cipher.applyCBC(&clear, ranges: [32..<(32 + length)], iv: iv, crypt: 1, skip: 9)
            }
            output += bytes[copied..<unit.lowerBound]
            output += escape(clear)
            copied = unit.upperBound
        }
        output += bytes[copied...]
        return output
    }

    /// Decrypts a run of ADTS frames (one packet of AAC).
    static func adts(_ bytes: [UInt8], cipher: SampleCipher, iv: [UInt8]) throws(CryptoError) -> [UInt8] {
        var output = bytes
        var offset = 0
        while offset + 7 <= output.count, output[offset] == 0xff, output[offset + 1] & 0xf0 == 0xf0 {
            let header = output[offset + 1] & 1 == 1 ? 7 : 9
            let length = Int(output[offset + 3] & 0x03) << 11 | Int(output[offset + 4]) << 3 | Int(output[offset + 5] >> 5)
            guard length >= header, offset + length <= output.count else { break }
            let start = offset + header + 16
            if start < offset + length {
                try cipher.applyCBC(&output, ranges: [start..<(offset + length)], iv: iv, crypt: 0, skip: 0)
            }
            offset += length
        }
        return output
    }

    /// The NAL units of an Annex B byte stream: from the header byte to the last byte before
    /// the next start code, trailing zero bytes left out.
    static func nalUnits(_ bytes: [UInt8]) -> [Range<Int>] {
        var starts: [(code: Int, unit: Int)] = []
        var index = 0
        while index + 3 <= bytes.count {
            if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                starts.append((index, index + 3))
                index += 3
            } else {
                index += 1
            }
        }
        var units: [Range<Int>] = []
        for (position, start) in starts.enumerated() {
            var end = position + 1 < starts.count ? starts[position + 1].code : bytes.count
            while end > start.unit, bytes[end - 1] == 0 { end -= 1 }
            if end > start.unit { units.append(start.unit..<end) }
        }
        return units
    }

    /// The unit without its emulation prevention bytes (the 3 of every 0 0 3).
    static func unescape(_ unit: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(unit.count)
        var zeros = 0
        for byte in unit {
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            output.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return output
    }

    /// The unit with emulation prevention bytes: a 3 after every two zeros followed by 0–3.
    static func escape(_ unit: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(unit.count + unit.count / 64)
        var zeros = 0
        for byte in unit {
            if zeros >= 2 && byte <= 3 {
                output.append(3)
                zeros = 0
            }
            output.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return output
    }
}
