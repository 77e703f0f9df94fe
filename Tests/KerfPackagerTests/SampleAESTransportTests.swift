import KerfCore
import KerfCrypto
import KerfTestTags
import Testing
@testable import KerfPackager

/// SAMPLE-AES over whole MPEG-TS segments built here packet by packet: the PMT rewritten
/// (stream types, descriptors, section_length, a CRC_32 this file computes bit by bit), PES
/// packets laid back into their transport packets, continuity counters renumbered.
@Suite(.tags(.unit)) struct SampleAESTransportTests {
    static let key = SampleAESCipherTests.key, iv = SampleAESCipherTests.iv
    static let videoPID = 0x100, audioPID = 0x101, pmtPID = 0x1000

    /// CRC-32/MPEG-2, one bit at a time.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04c1_1db7 : crc << 1 }
        }
        return crc
    }

    static func withCRC(_ section: [UInt8]) -> [UInt8] {
        let crc = crc32(section)
        return section + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]
    }

    /// A transport packet; `adaptation` is the adaptation field after its length byte (flags
    /// first), stuffed so the payload ends the packet.
    static func packet(_ pid: Int, start: Bool, cc: Int, adaptation: [UInt8] = [], _ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= 184 - (adaptation.isEmpty ? 0 : 1 + adaptation.count))
        var out: [UInt8] = [0x47, (start ? 0x40 : 0) | UInt8(pid >> 8), UInt8(pid & 0xff)]
        let room = 184 - payload.count
        out.append((room > 0 ? 0x30 : 0x10) | UInt8(cc))
        if room > 0 {
            out.append(UInt8(room - 1))
            if room > 1 {
                let field = adaptation.isEmpty ? [0] : adaptation
                out += field + [UInt8](repeating: 0xff, count: room - 1 - field.count)
            }
        }
        return out + payload
    }

    static func psi(_ pid: Int, _ section: [UInt8]) -> [UInt8] {
        packet(pid, start: true, cc: 0, [0] + section + [UInt8](repeating: 0xff, count: 183 - section.count))
    }

    static let pat = psi(0, withCRC([0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | UInt8(pmtPID >> 8), UInt8(pmtPID & 0xff)]))
    static let pmtSection = withCRC([0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00,
                                     0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00])
    static let pmt = psi(pmtPID, pmtSection)
    static let pcr: [UInt8] = [0x50, 0x00, 0x00, 0x75, 0x30, 0x7e, 0x00]

    static func pes(streamID: UInt8, bounded: Bool, _ payload: [UInt8]) -> [UInt8] {
        let length = bounded ? 8 + payload.count : 0
        return [0, 0, 1, streamID, UInt8(length >> 8), UInt8(length & 0xff), 0x80, 0x80, 0x05, 0x21, 0x00, 0x07, 0xd8, 0x61] + payload
    }

    static func adts(_ payload: [UInt8]) -> [UInt8] {
        let length = 7 + payload.count
        return [0xff, 0xf1, 0x50, 0x80 | UInt8(length >> 11), UInt8(length >> 3 & 0xff), UInt8(length & 7) << 5 | 0x1f, 0xfc] + payload
    }

    /// The packets of `pid` in `segment`, in order.
    static func packets(_ segment: [UInt8], pid: Int) -> [[UInt8]] {
        stride(from: 0, to: segment.count, by: 188).map { Array(segment[$0..<($0 + 188)]) }
            .filter { Int($0[1] & 0x1f) << 8 | Int($0[2]) == pid }
    }

    static func payload(_ packet: [UInt8]) -> [UInt8] {
        let control = packet[3] >> 4 & 3
        let start = control & 2 != 0 ? 5 + Int(packet[4]) : 4
        return control & 1 != 0 ? Array(packet[start...]) : []
    }

    @Test func rewritesThePMT() throws {
        let accessUnit: [UInt8] = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1] + SampleAESCipherTests.nal(type: 5, SampleAESCipherTests.plain0 + [9])
        let video = Self.pes(streamID: 0xe0, bounded: false, accessUnit)
        let audio = Self.pes(streamID: 0xc0, bounded: true, Self.adts([UInt8](repeating: 0x5a, count: 16) + SampleAESCipherTests.plain0))
        let segment = Self.pat + Self.pmt + Self.packet(Self.videoPID, start: true, cc: 0, adaptation: Self.pcr, video)
            + Self.packet(Self.audioPID, start: true, cc: 0, audio)
        let out = try SampleAESTransportStream(key: Self.key, iv: Self.iv).encrypt(segment)
        #expect(out.count == segment.count)
        #expect(Array(out[0..<188]) == Self.pat)

        let pmt = Self.packets(out, pid: Self.pmtPID)
        try #require(pmt.count == 1)
        let section = Array(Self.payload(pmt[0]).dropFirst())
        let length = Int(section[1] & 0x0f) << 8 | Int(section[2])
        let zavc = Array("zavc".utf8), aacd = Array("aacd".utf8), apad = Array("apad".utf8), zaac = Array("zaac".utf8)
        var expected: [UInt8] = [0x02, 0xb0, UInt8(length), 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00]
        expected += [0xdb, 0xe1, 0x00, 0xf0, 0x06, 0x0f, 0x04]
        expected += zavc
        expected += [0xcf, 0xe1, 0x01, 0xf0, 0x16, 0x0f, 0x04]
        expected += aacd
        expected += [0x05, 0x0e]
        expected += apad
        expected += zaac
        expected += [0x00, 0x00, 0x01, 0x02, 0x12, 0x10]
        #expect(length == expected.count - 3 + 4)
        #expect(Array(section[..<expected.count]) == expected)
        let crc = Self.crc32(Array(section[..<expected.count]))
        #expect(Array(section[expected.count..<(expected.count + 4)]) == [UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)])
        #expect(section[(expected.count + 4)...].allSatisfy { $0 == 0xff })

        // The PES packets changed only where the cipher says.
        let videoOut = Self.packets(out, pid: Self.videoPID)
        #expect(Array(videoOut[0][0..<12]) == Array(segment[376..<388]), "header and PCR kept")
        let audioOut = Self.payload(Self.packets(out, pid: Self.audioPID)[0])
        #expect(Array(audioOut[(14 + 7 + 16)...]) == SampleAESCipherTests.cipher0)
        #expect(Array(audioOut[..<(14 + 7 + 16)]) == Array(audio[..<(14 + 7 + 16)]))
    }

    /// A video PES packet that grows (its clear leader's 00 00 03 sequences are escaped again)
    /// takes a packet more after its last; the continuity counter of its PID counts on from
    /// there, the audio PID's is untouched, and the PES packet reads back as the cipher made it.
    @Test func growingPESTakesAnExtraPacket() throws {
        var leader: [UInt8] = []
        for _ in 0..<7 { leader += [0x00, 0x00, 0x03, 0x01] }
        leader += [0x11, 0x11, 0x11]
        // 176 bytes in the first packet (after the PCR), 184 in the second: 360 bytes of PES.
        let prefix: [UInt8] = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1]
        let nal = SampleAESCipherTests.nal(type: 5, leader: leader, [UInt8](repeating: 0x42, count: 360 - 14 - prefix.count - 32))
        let es = prefix + nal
        let pes = Self.pes(streamID: 0xe0, bounded: false, es)
        #expect(pes.count == 360)
        let second = Self.pes(streamID: 0xe0, bounded: false, [0, 0, 0, 1, 0x09, 0xf0])
        let audio = Self.pes(streamID: 0xc0, bounded: true, Self.adts([UInt8](repeating: 0x5a, count: 20)))
        let segment = Self.pat + Self.pmt
            + Self.packet(Self.videoPID, start: true, cc: 5, adaptation: Self.pcr, Array(pes[..<176]))
            + Self.packet(Self.audioPID, start: true, cc: 9, audio)
            + Self.packet(Self.videoPID, start: false, cc: 6, Array(pes[176...]))
            + Self.packet(Self.videoPID, start: true, cc: 7, second)
        let out = try SampleAESTransportStream(key: Self.key, iv: Self.iv).encrypt(segment)
        #expect(out.count == segment.count + 188)
        #expect(stride(from: 0, to: out.count, by: 188).allSatisfy { out[$0] == 0x47 })

        let video = Self.packets(out, pid: Self.videoPID)
        #expect(video.map { Int($0[3] & 0x0f) } == [5, 6, 7, 8])
        #expect(video.map { $0[1] & 0x40 != 0 } == [true, false, false, true])
        let rebuilt = Self.payload(video[0]) + Self.payload(video[1]) + Self.payload(video[2])
        let encrypted = try SampleAESCipher(key: Self.key, iv: Self.iv).encryptAccessUnit(es)
        #expect(encrypted.count >= es.count + 7)
        #expect(rebuilt == Array(pes[..<14]) + encrypted)
        #expect(Self.payload(video[3]) == second)
        #expect(Array(video[0][4..<12]) == [7] + Self.pcr, "the PCR stays in the first packet")
        let audioOut = Self.packets(out, pid: Self.audioPID)
        #expect(audioOut.count == 1 && Int(audioOut[0][3] & 0x0f) == 9)
        #expect(Self.payload(audioOut[0]) == audio, "an ADTS frame with fewer than 32 bytes after its header stays clear")
    }

    @Test func refusesWhatItCannotEncrypt() throws {
        let encryptor = try SampleAESTransportStream(key: Self.key, iv: Self.iv)
        #expect(throws: PackagerError.self) { try encryptor.encrypt(Array(Self.pat.dropLast())) }
        // An HEVC stream (0x24) in the PMT.
        let hevc = Self.psi(Self.pmtPID, Self.withCRC([0x02, 0xb0, 0x12, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00,
                                                       0x24, 0xe1, 0x00, 0xf0, 0x00]))
        #expect(throws: PackagerError.self) { try encryptor.encrypt(Self.pat + hevc) }
        // A PMT whose CRC is wrong.
        var damaged = Self.pmt
        damaged[30] ^= 0xff
        #expect(throws: PackagerError.self) { try encryptor.encrypt(Self.pat + damaged) }
        #expect(SampleAESTransportStream.canEncrypt(codec: "h264") && SampleAESTransportStream.canEncrypt(codec: "aac"))
        #expect(!SampleAESTransportStream.canEncrypt(codec: "hevc") && !SampleAESTransportStream.canEncrypt(codec: "ac3"))
    }
}
