/// Finds the closed captions of an H.264 or HEVC track by reading its samples' SEI NAL units:
/// `user_data_registered_itu_t_t35` messages with ATSC A/53 `GA94` cc_data (ITU-T H.264 D.1.6,
/// ATSC A/53 Part 4 §6.2.3). A CEA-608 channel counts once a caption command for it is seen
/// (CEA-608 §7.4: a preamble address or miscellaneous control code; text-mode codes do not
/// count); a CEA-708 service once a service block of it with data is seen (CEA-708 §6.2).
/// Only NAL headers are read for other units, so scanning every sample costs little.
public struct CaptionScanner: Sendable {
    private let hevc: Bool
    private let active: Bool
    private var channels: Set<Int> = []
    private var services: Set<Int> = []
    /// The DTVCC packet being assembled from cc_type 3 (start) and 2 (continuation) pairs.
    private var packet: [UInt8] = []

    /// Bytes of each NAL unit's length field; 0 for Annex B samples (start codes).
    private let lengthSize: Int

    /// - Parameters:
    ///   - codec: FFmpeg's codec name; tracks other than "h264" and "hevc" find nothing.
    ///   - extradata: the track's avcC/hvcC (samples are length-prefixed) or Annex B
    ///     parameter sets (samples are Annex B too), as `RandomAccess` reads them.
    public init(codec: String, extradata: [UInt8]) {
        hevc = codec == "hevc"
        active = Self.reads(codec: codec)
        lengthSize = extradata.first == 1 ? RandomAccess.lengthSize(codec: codec, extradata: extradata) : 0
    }

    /// Whether tracks of `codec` are read (H.264 and HEVC; AV1's T.35 metadata OBUs are not).
    public static func reads(codec: String) -> Bool { codec == "h264" || codec == "hevc" }

    /// What was found so far.
    public var found: ClosedCaptions {
        ClosedCaptions(cea608: channels.sorted(), cea708: services.sorted())
    }

    /// Reads one sample (its NAL units in the form the extradata tells).
    public mutating func scan(_ sample: UnsafeRawBufferPointer) {
        guard active else { return }
        if lengthSize == 0 {
            scanAnnexB(sample)
            return
        }
        var offset = 0
        while offset + lengthSize < sample.count {
            var length = 0
            for i in 0..<lengthSize { length = length << 8 | Int(sample[offset + i]) }
            offset += lengthSize
            guard length > 0, offset + length <= sample.count else { return }
            if isSEI(sample[offset]) { readSEI(UnsafeRawBufferPointer(rebasing: sample[offset..<offset + length])) }
            offset += length
        }
    }

    public mutating func scan(_ sample: [UInt8]) {
        sample.withUnsafeBytes { scan($0) }
    }

    private func isSEI(_ header: UInt8) -> Bool {
        // H.264 type 6; HEVC prefix (39) and suffix (40) SEI.
        hevc ? [39, 40].contains((header >> 1) & 0x3F) : header & 0x1F == 6
    }

    private mutating func scanAnnexB(_ bytes: UnsafeRawBufferPointer) {
        var i = 0, start: Int?
        func finish(_ end: Int) {
            guard let s = start, s < end, isSEI(bytes[s]) else { return }
            readSEI(UnsafeRawBufferPointer(rebasing: bytes[s..<end]))
        }
        while i + 2 < bytes.count {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                finish(i)
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        finish(bytes.count)
    }

    /// One SEI NAL unit (with its header and emulation prevention bytes).
    private mutating func readSEI(_ nal: UnsafeRawBufferPointer) {
        let rbsp = AnnexB.removingEmulationPrevention(Array(nal.dropFirst(hevc ? 2 : 1)))
        var i = 0
        func number() -> Int? {
            var value = 0
            while i < rbsp.count {
                let byte = rbsp[i]
                i += 1
                value += Int(byte)
                if byte != 0xFF { return value }
            }
            return nil
        }
        // sei_message() until rbsp_trailing_bits (a last byte of 0x80).
        while i < rbsp.count, !(i == rbsp.count - 1 && rbsp[i] == 0x80) {
            guard let type = number(), let size = number(), i + size <= rbsp.count else { return }
            if type == 4 { readT35(rbsp[i..<i + size]) }
            i += size
        }
    }

    /// user_data_registered_itu_t_t35: United States (0xB5), ATSC (provider 0x0031), "GA94",
    /// user_data_type_code 3 (cc_data).
    private mutating func readT35(_ payload: ArraySlice<UInt8>) {
        let p = Array(payload)
        guard p.count >= 10, p[0] == 0xB5, p[1] == 0x00, p[2] == 0x31, p[3...6].elementsEqual([0x47, 0x41, 0x39, 0x34]),
              p[7] == 0x03 else { return }
        let flags = p[8]
        guard flags & 0x40 != 0 else { return }  // process_cc_data_flag
        let count = Int(flags & 0x1F)
        // After flags: em_data, then cc_count triplets.
        var offset = 10
        for _ in 0..<count {
            guard offset + 3 <= p.count else { return }
            readPair(marker: p[offset], p[offset + 1], p[offset + 2])
            offset += 3
        }
    }

    private mutating func readPair(marker: UInt8, _ first: UInt8, _ second: UInt8) {
        guard marker & 0x04 != 0 else { return }  // cc_valid
        switch marker & 0x03 {
        case 0, 1: read608(field: Int(marker & 0x03) + 1, first & 0x7F, second & 0x7F)
        case 3:
            finishPacket()
            packet = [first, second]
        default:
            if !packet.isEmpty { packet += [first, second] }
        }
        if let size = packetSize, packet.count >= size { finishPacket() }
    }

    /// A CEA-608 byte pair without parity: control codes have a first byte of 0x10–0x1F. A
    /// preamble address code (second byte 0x40–0x7F) or a caption miscellaneous control code
    /// (first byte 0x14/0x1C in field 1, 0x15/0x1D in field 2; second 0x20–0x2F, not the
    /// text-mode TR and RTD) names its channel: bit 3 of the first byte.
    private mutating func read608(field: Int, _ first: UInt8, _ second: UInt8) {
        guard (0x10...0x1F).contains(first) else { return }
        let miscellaneous = (first & 0x16 == 0x14) && (0x20...0x2F).contains(second) && second != 0x2A && second != 0x2B
        let preamble = (0x40...0x7F).contains(second)
        guard miscellaneous || preamble else { return }
        channels.insert((field - 1) * 2 + (first & 0x08 == 0 ? 1 : 2))
    }

    /// The DTVCC packet's size in bytes (packet_size_code × 2, 0 meaning 128), header included.
    private var packetSize: Int? {
        guard let header = packet.first else { return nil }
        let code = Int(header & 0x3F)
        return code == 0 ? 128 : code * 2
    }

    /// Reads the service blocks of a complete (or cut short) DTVCC packet.
    private mutating func finishPacket() {
        defer { packet = [] }
        guard let size = packetSize else { return }
        let end = min(size, packet.count)
        var i = 1
        while i < end {
            var service = Int(packet[i] >> 5)
            let blockSize = Int(packet[i] & 0x1F)
            i += 1
            if service == 0 || blockSize == 0 { return }  // null service block: padding follows
            if service == 7 {
                guard i < end else { return }
                service = Int(packet[i] & 0x3F)
                i += 1
                if service < 7 { return }  // extended service numbers are 7–63
            }
            if service > 0 { services.insert(service) }
            i += blockSize
        }
    }
}
