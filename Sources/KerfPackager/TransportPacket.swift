/// One 188-byte MPEG-2 transport stream packet (ISO/IEC 13818-1 §2.4.3.2): its header fields,
/// the meaningful part of its adaptation field and where its payload lies.
struct TransportPacket {
    static let size = 188
    static let syncByte: UInt8 = 0x47

    var pid: Int
    var payloadUnitStart: Bool
    var continuityCounter: Int
    /// The adaptation field without its length byte and without stuffing: the flags byte and
    /// the fields the flags announce (PCR, OPCR, splice countdown, private data, extension).
    /// Empty when the packet has no adaptation field or one that only stuffs (length 0, or
    /// flags 0).
    var adaptation: [UInt8]
    /// The payload bytes (empty for an adaptation-field-only packet).
    var payload: ArraySlice<UInt8>
    /// The packet has a payload (adaptation_field_control 01 or 11).
    var hasPayload: Bool
    /// The second header byte's transport_error and transport_priority bits and the
    /// transport_scrambling_control bits, kept as they were.
    private var errorAndPriority: UInt8
    private var scrambling: UInt8

    /// Parses the packet at `offset` of `bytes`.
    /// - Throws: `.unsupportedInput` when it is not a transport packet (no sync byte, an
    ///   adaptation field longer than the packet).
    init(_ bytes: [UInt8], at offset: Int) throws(PackagerError) {
        guard offset + Self.size <= bytes.count, bytes[offset] == Self.syncByte else {
            throw PackagerError(.unsupportedInput, "MPEG-TS segment is damaged", reason: "no sync byte at offset \(offset)")
        }
        let b1 = bytes[offset + 1], b3 = bytes[offset + 3]
        pid = Int(b1 & 0x1f) << 8 | Int(bytes[offset + 2])
        payloadUnitStart = b1 & 0x40 != 0
        errorAndPriority = b1 & 0xa0
        scrambling = b3 & 0xc0
        continuityCounter = Int(b3 & 0x0f)
        let control = (b3 >> 4) & 3
        hasPayload = control & 1 != 0
        var start = offset + 4
        adaptation = []
        if control & 2 != 0 {
            let length = Int(bytes[start])
            guard start + 1 + length <= offset + Self.size else {
                throw PackagerError(.unsupportedInput, "MPEG-TS segment is damaged", reason: "adaptation field overruns its packet")
            }
            if length > 0 {
                let field = Array(bytes[(start + 1)..<(start + 1 + length)])
                let meaningful = Self.meaningfulLength(field)
                if field[0] != 0 || meaningful > 1 { adaptation = Array(field.prefix(meaningful)) }
            }
            start += 1 + length
        }
        payload = hasPayload ? bytes[start..<(offset + Self.size)] : []
    }

    /// A packet built from fields; `payload` must fit (`capacity(adaptation:)`).
    init(pid: Int, payloadUnitStart: Bool, continuityCounter: Int, adaptation: [UInt8], payload: ArraySlice<UInt8>) {
        self.pid = pid
        self.payloadUnitStart = payloadUnitStart
        self.continuityCounter = continuityCounter
        self.adaptation = adaptation
        self.payload = payload
        hasPayload = true
        errorAndPriority = 0
        scrambling = 0
    }

    /// Payload bytes a packet can carry with the adaptation field `adaptation` (meaningful part).
    static func capacity(adaptation: [UInt8]) -> Int {
        adaptation.isEmpty ? 184 : 184 - 1 - adaptation.count
    }

    /// The length of the flags byte and the fields it announces, within `field` (the
    /// adaptation field after its length byte); what follows is stuffing.
    private static func meaningfulLength(_ field: [UInt8]) -> Int {
        let flags = field[0]
        var length = 1
        if flags & 0x10 != 0 { length += 6 }  // PCR
        if flags & 0x08 != 0 { length += 6 }  // OPCR
        if flags & 0x04 != 0 { length += 1 }  // splice_countdown
        if flags & 0x02 != 0, length < field.count { length += 1 + Int(field[length]) }  // transport_private_data
        if flags & 0x01 != 0, length < field.count { length += 1 + Int(field[length]) }  // adaptation_field_extension
        return min(length, field.count)
    }

    /// The 188 bytes: header, the adaptation field (stuffed so the payload ends the packet),
    /// the payload. An adaptation-field-only packet is stuffed to its end.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        let room = 184 - payload.count
        let control: UInt8 = !hasPayload ? 0b10 : room == 0 ? 0b01 : 0b11
        out.append(Self.syncByte)
        out.append(errorAndPriority | (payloadUnitStart ? 0x40 : 0) | UInt8(pid >> 8 & 0x1f))
        out.append(UInt8(pid & 0xff))
        out.append(scrambling | control << 4 | UInt8(continuityCounter & 0x0f))
        if room > 0 {
            out.append(UInt8(room - 1))
            if room > 1 {
                let field = adaptation.isEmpty ? [0] : adaptation
                out += field
                out += [UInt8](repeating: 0xff, count: room - 1 - field.count)
            }
        }
        out += payload
        return out
    }
}
