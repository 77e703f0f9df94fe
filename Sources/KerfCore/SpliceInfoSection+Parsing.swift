extension SpliceInfoSection {
    /// Reads a section from `bytes` (table_id first; bytes after the section, such as MPEG-TS
    /// stuffing, are ignored).
    /// - Throws: `Malformed` when the table_id is not 0xFC, a length field overruns the section
    ///   or disagrees with its content, the CRC_32 does not match, the section is encrypted, or
    ///   protocol_version is not 0.
    public static func parse(_ bytes: [UInt8]) throws(Malformed) -> SpliceInfoSection {
        guard bytes.count >= 3 else { throw Malformed(.truncated, "\(bytes.count) bytes is too short for a splice_info_section") }
        guard bytes[0] == tableID else {
            throw Malformed(.tableID, "table_id 0x\(Hex.string([bytes[0]])) is not 0xfc (splice_info_section)")
        }
        let sectionLength = Int(bytes[1] & 0x0f) << 8 | Int(bytes[2])
        let total = 3 + sectionLength
        guard total <= bytes.count else {
            throw Malformed(.truncated, "section_length says \(total) bytes, \(bytes.count) are given")
        }
        guard sectionLength >= 17 else { throw Malformed(.sectionLength, "section_length \(sectionLength) is too short (at least 17)") }
        guard MPEGCRC32.checksum(bytes[..<total]) == 0 else { throw Malformed(.crcMismatch, "CRC_32 mismatch") }
        var reader = SectionBitReader(bytes, from: 3)
        reader.limit = (total - 4) * 8
        let version = try reader.bits(8, "protocol_version")
        guard version == 0 else { throw Malformed(.protocolVersion, "protocol_version \(version) is not 0") }
        guard !(try reader.flag("encrypted_packet")) else { throw Malformed(.encrypted, "encrypted sections are not supported") }
        try reader.skip(6, "encryption_algorithm")
        var section = SpliceInfoSection(command: .null)
        section.sapType = (bytes[1] >> 4) & 0x3
        section.ptsAdjustment = try reader.bits(33, "pts_adjustment")
        section.cwIndex = UInt8(try reader.bits(8, "cw_index"))
        section.tier = UInt16(try reader.bits(12, "tier"))
        let commandLength = Int(try reader.bits(12, "splice_command_length"))
        let commandType = UInt8(try reader.bits(8, "splice_command_type"))
        let commandStart = reader.bytePosition
        // 0xFFF: the length is not given (SCTE 35 2004); the command's syntax says where it ends.
        let sectionEnd = reader.limit
        if commandLength != 0xfff {
            guard commandStart + commandLength <= total - 4 else {
                throw Malformed(.truncated, "splice_command_length \(commandLength) runs past the section")
            }
            reader.limit = (commandStart + commandLength) * 8
        }
        switch commandType {
        case 0x00: section.command = .null
        case 0x05: section.command = .insert(try parseInsert(&reader))
        case 0x06: section.command = .timeSignal(try parseSpliceTime(&reader))
        default:
            guard commandLength != 0xfff else {
                throw Malformed(.invalidField, "splice_command_type 0x\(Hex.string([commandType])) without a splice_command_length")
            }
            section.command = .other(type: commandType, bytes: try reader.bytes(commandLength, "splice_command"))
        }
        if commandLength != 0xfff, reader.bytePosition != commandStart + commandLength || reader.position % 8 != 0 {
            throw Malformed(.invalidField, "splice_command_length \(commandLength) does not match the command (\(reader.bytePosition - commandStart) bytes)")
        }
        reader.limit = sectionEnd
        let loopLength = Int(try reader.bits(16, "descriptor_loop_length"))
        let loopEnd = reader.bytePosition + loopLength
        guard loopEnd * 8 <= sectionEnd else { throw Malformed(.truncated, "descriptor_loop_length \(loopLength) runs past the section") }
        while reader.bytePosition < loopEnd {
            section.descriptors.append(try parseDescriptor(&reader, loopEnd: loopEnd))
        }
        guard reader.position == sectionEnd else {
            throw Malformed(.sectionLength, "\(sectionEnd / 8 - reader.bytePosition) bytes between the descriptors and CRC_32")
        }
        return section
    }

    /// splice_time(): the pts_time when time_specified_flag is 1.
    static func parseSpliceTime(_ reader: inout SectionBitReader) throws(Malformed) -> UInt64? {
        guard try reader.flag("time_specified_flag") else {
            try reader.skip(7, "reserved")
            return nil
        }
        try reader.skip(6, "reserved")
        return try reader.bits(33, "pts_time")
    }

    static func parseInsert(_ reader: inout SectionBitReader) throws(Malformed) -> SpliceInsert {
        var insert = SpliceInsert(eventID: UInt32(try reader.bits(32, "splice_event_id")))
        insert.cancel = try reader.flag("splice_event_cancel_indicator")
        try reader.skip(7, "reserved")
        guard !insert.cancel else { return insert }
        insert.outOfNetwork = try reader.flag("out_of_network_indicator")
        insert.programSplice = try reader.flag("program_splice_flag")
        let hasDuration = try reader.flag("duration_flag")
        insert.spliceImmediate = try reader.flag("splice_immediate_flag")
        insert.eventIDCompliance = try reader.flag("event_id_compliance_flag")
        try reader.skip(3, "reserved")
        if insert.programSplice && !insert.spliceImmediate { insert.spliceTime = try parseSpliceTime(&reader) }
        if !insert.programSplice {
            let count = try reader.bits(8, "component_count")
            for _ in 0..<count {
                let tag = UInt8(try reader.bits(8, "component_tag"))
                insert.components.append(.init(tag: tag, spliceTime: insert.spliceImmediate ? nil : try parseSpliceTime(&reader)))
            }
        }
        if hasDuration {
            let autoReturn = try reader.flag("auto_return")
            try reader.skip(6, "reserved")
            insert.breakDuration = BreakDuration(autoReturn: autoReturn, duration: try reader.bits(33, "duration"))
        }
        insert.uniqueProgramID = UInt16(try reader.bits(16, "unique_program_id"))
        insert.availNum = UInt8(try reader.bits(8, "avail_num"))
        insert.availsExpected = UInt8(try reader.bits(8, "avails_expected"))
        return insert
    }

    static func parseDescriptor(_ reader: inout SectionBitReader, loopEnd: Int) throws(Malformed) -> SpliceDescriptor {
        let tag = UInt8(try reader.bits(8, "splice_descriptor_tag"))
        let length = Int(try reader.bits(8, "descriptor_length"))
        let end = reader.bytePosition + length
        guard end <= loopEnd else { throw Malformed(.truncated, "descriptor 0x\(Hex.string([tag])) (\(length) bytes) runs past the descriptor loop") }
        guard length >= 4 else { throw Malformed(.invalidField, "descriptor 0x\(Hex.string([tag])) is \(length) bytes, shorter than its identifier") }
        let outer = reader.limit
        reader.limit = end * 8
        defer { reader.limit = outer }
        let identifier = UInt32(try reader.bits(32, "identifier"))
        guard tag == SegmentationDescriptor.tag, identifier == SegmentationDescriptor.cueIdentifier else {
            return .other(tag: tag, identifier: identifier, bytes: try reader.bytes(length - 4, "descriptor bytes"))
        }
        var d = SegmentationDescriptor(eventID: UInt32(try reader.bits(32, "segmentation_event_id")), typeID: 0)
        d.cancel = try reader.flag("segmentation_event_cancel_indicator")
        d.eventIDCompliance = try reader.flag("segmentation_event_id_compliance_indicator")
        try reader.skip(6, "reserved")
        if !d.cancel {
            let programSegmentation = try reader.flag("program_segmentation_flag")
            let hasDuration = try reader.flag("segmentation_duration_flag")
            if try reader.flag("delivery_not_restricted_flag") {
                try reader.skip(5, "reserved")
            } else {
                d.restrictions = .init(webDeliveryAllowed: try reader.flag("web_delivery_allowed_flag"),
                                       noRegionalBlackout: try reader.flag("no_regional_blackout_flag"),
                                       archiveAllowed: try reader.flag("archive_allowed_flag"),
                                       deviceRestrictions: UInt8(try reader.bits(2, "device_restrictions")))
            }
            if !programSegmentation {
                let count = try reader.bits(8, "component_count")
                for _ in 0..<count {
                    let tag = UInt8(try reader.bits(8, "component_tag"))
                    try reader.skip(7, "reserved")
                    d.components.append(.init(tag: tag, ptsOffset: try reader.bits(33, "pts_offset")))
                }
            }
            if hasDuration { d.duration = try reader.bits(40, "segmentation_duration") }
            d.upidType = UInt8(try reader.bits(8, "segmentation_upid_type"))
            let upidLength = Int(try reader.bits(8, "segmentation_upid_length"))
            d.upid = try reader.bytes(upidLength, "segmentation_upid")
            d.typeID = UInt8(try reader.bits(8, "segmentation_type_id"))
            d.segmentNum = UInt8(try reader.bits(8, "segment_num"))
            d.segmentsExpected = UInt8(try reader.bits(8, "segments_expected"))
            if SegmentationDescriptor.subSegmentTypes.contains(d.typeID), reader.bitsLeft >= 16 {
                d.subSegmentNum = UInt8(try reader.bits(8, "sub_segment_num"))
                d.subSegmentsExpected = UInt8(try reader.bits(8, "sub_segments_expected"))
            }
        }
        guard reader.bytePosition == end, reader.position % 8 == 0 else {
            throw Malformed(.invalidField, "segmentation_descriptor: descriptor_length \(length) does not match its fields")
        }
        return .segmentation(d)
    }
}
