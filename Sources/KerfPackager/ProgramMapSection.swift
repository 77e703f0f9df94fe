import KerfCore

/// A TS_program_map_section (ISO/IEC 13818-1 §2.4.4.8): the elementary streams of a program,
/// their stream types and descriptors. Parsed from a PMT packet's payload and written back with
/// its section_length and CRC_32 recomputed, so streams can be retyped and described (Apple
/// SAMPLE-AES signalling).
struct ProgramMapSection: Equatable {
    struct Stream: Equatable {
        var streamType: UInt8
        var pid: Int
        /// The ES_info descriptors, each with its tag and length bytes.
        var descriptors: [UInt8]
    }

    var programNumber: Int
    /// The byte holding version_number and current_next_indicator (with its reserved bits).
    var versionByte: UInt8
    var pcrPID: Int
    var programDescriptors: [UInt8]
    var streams: [Stream]

    /// Parses the section a PMT packet's payload starts (pointer_field first).
    /// - Throws: `.unsupportedInput` when it is not one whole program_map_section with a
    ///   valid CRC (a section spanning packets is not supported).
    init(payload: ArraySlice<UInt8>) throws(PackagerError) {
        let bytes = Array(payload)
        func damaged(_ why: String) -> PackagerError { PackagerError(.unsupportedInput, "MPEG-TS segment has an unreadable PMT", reason: why) }
        guard let pointer = bytes.first.map({ Int($0) }), 1 + pointer + 3 <= bytes.count else { throw damaged("no section") }
        let start = 1 + pointer
        guard bytes[start] == 0x02 else { throw damaged("table_id \(bytes[start]) is not 2") }
        let length = Int(bytes[start + 1] & 0x0f) << 8 | Int(bytes[start + 2])
        let end = start + 3 + length
        guard length >= 13, end <= bytes.count else { throw damaged("the section does not fit one packet") }
        guard MPEGCRC32.checksum(bytes[start..<end]) == 0 else { throw damaged("CRC_32 mismatch") }
        programNumber = Int(bytes[start + 3]) << 8 | Int(bytes[start + 4])
        versionByte = bytes[start + 5]
        pcrPID = Int(bytes[start + 8] & 0x1f) << 8 | Int(bytes[start + 9])
        let programInfoLength = Int(bytes[start + 10] & 0x0f) << 8 | Int(bytes[start + 11])
        var at = start + 12
        guard at + programInfoLength <= end - 4 else { throw damaged("program_info_length overruns the section") }
        programDescriptors = Array(bytes[at..<(at + programInfoLength)])
        at += programInfoLength
        streams = []
        while at + 5 <= end - 4 {
            let infoLength = Int(bytes[at + 3] & 0x0f) << 8 | Int(bytes[at + 4])
            guard at + 5 + infoLength <= end - 4 else { throw damaged("ES_info_length overruns the section") }
            streams.append(Stream(streamType: bytes[at], pid: Int(bytes[at + 1] & 0x1f) << 8 | Int(bytes[at + 2]),
                                  descriptors: Array(bytes[(at + 5)..<(at + 5 + infoLength)])))
            at += 5 + infoLength
        }
    }

    /// The section from table_id to CRC_32.
    var section: [UInt8] {
        var body: [UInt8] = [UInt8(programNumber >> 8), UInt8(programNumber & 0xff), versionByte, 0, 0,
                             0xe0 | UInt8(pcrPID >> 8 & 0x1f), UInt8(pcrPID & 0xff),
                             0xf0 | UInt8(programDescriptors.count >> 8 & 0x0f), UInt8(programDescriptors.count & 0xff)]
        body += programDescriptors
        for stream in streams {
            body += [stream.streamType, 0xe0 | UInt8(stream.pid >> 8 & 0x1f), UInt8(stream.pid & 0xff),
                     0xf0 | UInt8(stream.descriptors.count >> 8 & 0x0f), UInt8(stream.descriptors.count & 0xff)]
            body += stream.descriptors
        }
        let length = body.count + 4
        return MPEGCRC32.appended(to: [0x02, 0xb0 | UInt8(length >> 8 & 0x0f), UInt8(length & 0xff)] + body)
    }

    /// The payload of a PMT packet carrying this section: pointer_field 0, the section, 0xFF
    /// stuffing up to `capacity` bytes.
    /// - Throws: `.unsupportedInput` when the section does not fit (Apple requires the PMT to
    ///   fit one packet).
    func payload(capacity: Int) throws(PackagerError) -> [UInt8] {
        let bytes = [0] + section
        guard bytes.count <= capacity else {
            throw PackagerError(.unsupportedInput, "the PMT does not fit one MPEG-TS packet",
                                reason: "\(bytes.count) bytes for \(capacity)")
        }
        return bytes + [UInt8](repeating: 0xff, count: capacity - bytes.count)
    }

    /// The PIDs of the program map tables a PAT packet's payload lists (program_number ≠ 0).
    static func programMapPIDs(patPayload payload: ArraySlice<UInt8>) -> [Int] {
        let bytes = Array(payload)
        guard let pointer = bytes.first.map({ Int($0) }), 1 + pointer + 8 <= bytes.count, bytes[1 + pointer] == 0x00 else { return [] }
        let start = 1 + pointer
        let length = Int(bytes[start + 1] & 0x0f) << 8 | Int(bytes[start + 2])
        let end = min(start + 3 + length - 4, bytes.count)
        var pids: [Int] = []
        var at = start + 8
        while at + 4 <= end {
            let program = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            if program != 0 { pids.append(Int(bytes[at + 2] & 0x1f) << 8 | Int(bytes[at + 3])) }
            at += 4
        }
        return pids
    }
}
