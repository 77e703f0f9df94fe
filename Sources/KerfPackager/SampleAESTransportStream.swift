import KerfCore
import KerfCrypto

/// Apple SAMPLE-AES applied to a whole MPEG-TS segment ("MPEG-2 Stream Encryption Format for
/// HTTP Live Streaming"): bytes of a clear segment in, bytes of the encrypted segment out.
///
/// The segment is read packet by packet. Each H.264 and AAC PES packet is put together from its
/// transport packets, its elementary stream encrypted (`SampleAESCipher`) and laid back into
/// the same transport packets — headers, PCRs and flags as they were — with more packets after
/// its last one when emulation prevention made it longer; continuity counters are renumbered
/// for that. The PMT is rewritten (§3): stream_type 0xdb for H.264 and 0xcf for AAC, a
/// private_data_indicator_descriptor ('zavc', 'aacd') for each, and for AAC a
/// registration_descriptor 'apad' with the audio setup information ('zaac', priming 0,
/// version 1, the AudioSpecificConfig of the first ADTS header). The PAT and other tables are
/// copied.
///
/// Pure: the same bytes, key and IV give the same output.
struct SampleAESTransportStream {
    /// Stream types this encrypts (ISO/IEC 13818-1 Table 2-34) and their SAMPLE-AES forms.
    enum Kind {
        case h264, aac

        init?(streamType: UInt8) {
            switch streamType {
            case 0x1b: self = .h264
            case 0x0f: self = .aac
            default: return nil
            }
        }

        var encryptedStreamType: UInt8 { self == .h264 ? 0xdb : 0xcf }
        var privateDataIndicator: [UInt8] { Array((self == .h264 ? "zavc" : "aacd").utf8) }
    }

    /// Codecs (Kerf's names) a SAMPLE-AES MPEG-TS variant can carry.
    static func canEncrypt(codec: String) -> Bool { codec == "h264" || codec == "aac" }

    private let cipher: SampleAESCipher

    /// - Parameter iv: 16 bytes, the IV the playlist's EXT-X-KEY states.
    init(key: AES128Key, iv: [UInt8]) throws {
        cipher = try SampleAESCipher(key: key, iv: iv)
    }

    /// A PES packet of an encrypted stream: its transport packets (indices into the segment)
    /// and its bytes once encrypted.
    private struct Unit {
        var packets: [Int]
        var bytes: [UInt8] = []
    }

    /// The encrypted segment.
    /// - Throws: `.unsupportedInput` for bytes that are not whole transport packets, a PMT
    ///   that cannot be read or rewritten in one packet, an elementary stream of another type
    ///   (only H.264 and AAC are encrypted), a PES packet that cannot be read;
    ///   `CryptoError` from OpenSSL.
    func encrypt(_ segment: [UInt8]) throws -> [UInt8] {
        guard segment.count % TransportPacket.size == 0 else {
            throw PackagerError(.unsupportedInput, "MPEG-TS segment is damaged", reason: "\(segment.count) bytes is not a whole number of packets")
        }
        var packets: [TransportPacket] = []
        packets.reserveCapacity(segment.count / TransportPacket.size)
        for offset in stride(from: 0, to: segment.count, by: TransportPacket.size) {
            packets.append(try TransportPacket(segment, at: offset))
        }
        // Tables: which PIDs are PMTs, what each elementary stream is.
        var pmtPIDs: Set<Int> = []
        var kinds: [Int: Kind] = [:]
        for packet in packets where packet.hasPayload && packet.payloadUnitStart {
            if packet.pid == 0 {
                pmtPIDs.formUnion(ProgramMapSection.programMapPIDs(patPayload: packet.payload))
            } else if pmtPIDs.contains(packet.pid) {
                for stream in try ProgramMapSection(payload: packet.payload).streams {
                    guard let kind = Kind(streamType: stream.streamType) else {
                        throw PackagerError(.unsupportedInput, "SAMPLE-AES cannot encrypt MPEG-TS stream type 0x\(Hex.string([stream.streamType]))",
                                            reason: "Apple's MPEG-TS sample encryption covers H.264 video and AAC audio")
                    }
                    kinds[stream.pid] = kind
                }
            }
        }
        // PES packets of the encrypted streams, put together and encrypted.
        var units: [Unit] = []
        var open: [Int: Int] = [:]
        var unitOfPacket: [Int: Int] = [:]
        for (index, packet) in packets.enumerated() where packet.hasPayload && kinds[packet.pid] != nil {
            if packet.payloadUnitStart {
                open[packet.pid] = units.count
                units.append(Unit(packets: []))
            }
            guard let unit = open[packet.pid] else { continue }  // a continuation before any start: copied as it is
            units[unit].packets.append(index)
            units[unit].bytes += packet.payload
            unitOfPacket[index] = unit
        }
        var audioSetup: [UInt8]?
        for index in units.indices {
            let pid = packets[units[index].packets[0]].pid
            units[index].bytes = try encryptPES(units[index].bytes, kind: kinds[pid]!, audioSetup: &audioSetup)
        }
        return try write(packets, units: units, unitOfPacket: unitOfPacket, kinds: kinds, pmtPIDs: pmtPIDs, audioSetup: audioSetup)
    }

    /// A PES packet with its elementary stream encrypted and PES_packet_length updated.
    private func encryptPES(_ pes: [UInt8], kind: Kind, audioSetup: inout [UInt8]?) throws -> [UInt8] {
        guard pes.count >= 9, pes[0] == 0, pes[1] == 0, pes[2] == 1 else {
            throw PackagerError(.unsupportedInput, "MPEG-TS segment is damaged", reason: "a PES packet does not start with its start code")
        }
        let headerEnd = 9 + Int(pes[8])
        guard headerEnd <= pes.count else {
            throw PackagerError(.unsupportedInput, "MPEG-TS segment is damaged", reason: "a PES header overruns its packet")
        }
        var payload = Array(pes[headerEnd...])
        switch kind {
        case .h264:
            payload = try cipher.encryptAccessUnit(payload)
        case .aac:
            if audioSetup == nil, SampleAESCipher.adtsFrame(payload, at: 0) != nil {
                audioSetup = SampleAESCipher.audioSpecificConfig(adts: payload, at: 0)
            }
            try cipher.encryptADTSFrames(&payload)
        }
        var out = Array(pes[..<headerEnd]) + payload
        if pes[4] != 0 || pes[5] != 0 {
            // A bounded PES packet keeps its length right; one too long for the field becomes
            // unbounded, which ISO/IEC 13818-1 allows for video only.
            let length = out.count - 6
            guard length <= 0xffff || kind == .h264 else {
                throw PackagerError(.unsupportedInput, "an audio PES packet is too long once encrypted", reason: "\(length) bytes")
            }
            out[4] = length <= 0xffff ? UInt8(length >> 8) : 0
            out[5] = length <= 0xffff ? UInt8(length & 0xff) : 0
        }
        return out
    }

    /// The segment written back: PMTs rewritten, each encrypted PES packet laid into its
    /// transport packets (and more after the last when it grew), the rest copied.
    private func write(_ packets: [TransportPacket], units: [Unit], unitOfPacket: [Int: Int], kinds: [Int: Kind],
                       pmtPIDs: Set<Int>, audioSetup: [UInt8]?) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(packets.count * TransportPacket.size + 4 * TransportPacket.size)
        var written = [Int](repeating: 0, count: units.count)
        var counters: [Int: Int] = [:]
        func next(_ packet: TransportPacket) -> Int {
            let counter = counters[packet.pid] ?? packet.continuityCounter
            counters[packet.pid] = (counter + 1) & 0x0f
            return counter
        }
        for (index, original) in packets.enumerated() {
            var packet = original
            if pmtPIDs.contains(packet.pid), packet.hasPayload, packet.payloadUnitStart {
                var section = try ProgramMapSection(payload: packet.payload)
                section.streams = section.streams.map { describe($0, kind: kinds[$0.pid], audioSetup: audioSetup) }
                packet.payload = try section.payload(capacity: TransportPacket.capacity(adaptation: packet.adaptation))[...]
                out += packet.bytes
                continue
            }
            guard kinds[packet.pid] != nil else {
                out += packet.bytes
                continue
            }
            guard let unitIndex = unitOfPacket[index] else {
                // No payload (a PCR-only packet) or a payload before any unit start: the
                // counter stays where the stream's last payload packet left it.
                if let counter = counters[packet.pid] { packet.continuityCounter = packet.hasPayload ? next(packet) : (counter + 15) & 0x0f }
                out += packet.bytes
                continue
            }
            let unit = units[unitIndex]
            let isLast = unit.packets.last == index
            let remaining = unit.bytes.count - written[unitIndex]
            guard remaining > 0 else { continue }  // the unit shrank: its spare packets go
            let take = min(remaining, TransportPacket.capacity(adaptation: packet.adaptation))
            packet.payload = unit.bytes[written[unitIndex]..<(written[unitIndex] + take)]
            written[unitIndex] += take
            packet.continuityCounter = next(packet)
            out += packet.bytes
            guard isLast else { continue }
            while written[unitIndex] < unit.bytes.count {
                let more = min(unit.bytes.count - written[unitIndex], TransportPacket.capacity(adaptation: []))
                let extra = TransportPacket(pid: packet.pid, payloadUnitStart: false, continuityCounter: next(packet), adaptation: [],
                                            payload: unit.bytes[written[unitIndex]..<(written[unitIndex] + more)])
                written[unitIndex] += more
                out += extra.bytes
            }
        }
        return out
    }

    /// An elementary stream's PMT entry, retyped and described when it is encrypted.
    private func describe(_ stream: ProgramMapSection.Stream, kind: Kind?, audioSetup: [UInt8]?) -> ProgramMapSection.Stream {
        guard let kind else { return stream }
        var described = stream
        described.streamType = kind.encryptedStreamType
        // private_data_indicator_descriptor (ISO/IEC 13818-1 §2.6.29).
        described.descriptors += [0x0f, 4] + kind.privateDataIndicator
        if kind == .aac, let audioSetup {
            // registration_descriptor (§2.6.8) 'apad' with the audio setup information.
            let information = Array("zaac".utf8) + [0, 0, 1, UInt8(audioSetup.count)] + audioSetup
            described.descriptors += [0x05, UInt8(4 + information.count)] + Array("apad".utf8) + information
        }
        return described
    }
}
