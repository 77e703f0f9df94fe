extension SpliceInfoSection {
    /// The section as bytes, table_id through CRC_32, with section_length,
    /// splice_command_length, descriptor_loop_length and the CRC computed.
    public func encoded() -> [UInt8] {
        var command = SectionBitWriter()
        switch self.command {
        case .null: break
        case .insert(let insert): Self.write(insert, into: &command)
        case .timeSignal(let time): Self.writeSpliceTime(time, into: &command)
        case .other(_, let bytes): command.put(bytes: bytes)
        }
        var loop = SectionBitWriter()
        for descriptor in descriptors { Self.write(descriptor, into: &loop) }
        var body = SectionBitWriter()
        body.put(UInt64(protocolVersion), 8)
        body.put(false)  // encrypted_packet
        body.put(0, 6)  // encryption_algorithm
        body.put(ptsAdjustment % Self.ptsModulus, 33)
        body.put(UInt64(cwIndex), 8)
        body.put(UInt64(tier), 12)
        body.put(UInt64(command.bytes.count), 12)
        body.put(UInt64(self.command.type), 8)
        body.put(bytes: command.bytes)
        body.put(UInt64(loop.bytes.count), 16)
        body.put(bytes: loop.bytes)
        let length = body.bytes.count + 4
        let header: [UInt8] = [Self.tableID, UInt8(sapType & 0x3) << 4 | UInt8(length >> 8 & 0x0f), UInt8(length & 0xff)]
        return MPEGCRC32.appended(to: header + body.bytes)
    }

    static func writeSpliceTime(_ time: UInt64?, into writer: inout SectionBitWriter) {
        guard let time else {
            writer.put(false)
            writer.reserved(7)
            return
        }
        writer.put(true)
        writer.reserved(6)
        writer.put(time % ptsModulus, 33)
    }

    static func write(_ insert: SpliceInsert, into writer: inout SectionBitWriter) {
        writer.put(UInt64(insert.eventID), 32)
        writer.put(insert.cancel)
        writer.reserved(7)
        guard !insert.cancel else { return }
        writer.put(insert.outOfNetwork)
        writer.put(insert.programSplice)
        writer.put(insert.breakDuration != nil)
        writer.put(insert.spliceImmediate)
        writer.put(insert.eventIDCompliance)
        writer.reserved(3)
        if insert.programSplice && !insert.spliceImmediate { writeSpliceTime(insert.spliceTime, into: &writer) }
        if !insert.programSplice {
            writer.put(UInt64(insert.components.count), 8)
            for component in insert.components {
                writer.put(UInt64(component.tag), 8)
                if !insert.spliceImmediate { writeSpliceTime(component.spliceTime, into: &writer) }
            }
        }
        if let duration = insert.breakDuration {
            writer.put(duration.autoReturn)
            writer.reserved(6)
            writer.put(duration.duration % ptsModulus, 33)
        }
        writer.put(UInt64(insert.uniqueProgramID), 16)
        writer.put(UInt64(insert.availNum), 8)
        writer.put(UInt64(insert.availsExpected), 8)
    }

    static func write(_ descriptor: SpliceDescriptor, into writer: inout SectionBitWriter) {
        var body = SectionBitWriter()
        let tag: UInt8
        switch descriptor {
        case .other(let otherTag, let identifier, let bytes):
            tag = otherTag
            body.put(UInt64(identifier), 32)
            body.put(bytes: bytes)
        case .segmentation(let d):
            tag = SegmentationDescriptor.tag
            write(d, into: &body)
        }
        writer.put(UInt64(tag), 8)
        writer.put(UInt64(body.bytes.count), 8)
        writer.put(bytes: body.bytes)
    }

    static func write(_ d: SegmentationDescriptor, into writer: inout SectionBitWriter) {
        writer.put(UInt64(d.identifier), 32)
        writer.put(UInt64(d.eventID), 32)
        writer.put(d.cancel)
        writer.put(d.eventIDCompliance)
        writer.reserved(6)
        guard !d.cancel else { return }
        writer.put(d.components.isEmpty)
        writer.put(d.duration != nil)
        writer.put(d.restrictions == nil)
        if let r = d.restrictions {
            writer.put(r.webDeliveryAllowed)
            writer.put(r.noRegionalBlackout)
            writer.put(r.archiveAllowed)
            writer.put(UInt64(r.deviceRestrictions), 2)
        } else {
            writer.reserved(5)
        }
        if !d.components.isEmpty {
            writer.put(UInt64(d.components.count), 8)
            for component in d.components {
                writer.put(UInt64(component.tag), 8)
                writer.reserved(7)
                writer.put(component.ptsOffset % ptsModulus, 33)
            }
        }
        if let duration = d.duration { writer.put(duration, 40) }
        writer.put(UInt64(d.upidType), 8)
        writer.put(UInt64(d.upid.count), 8)
        writer.put(bytes: d.upid)
        writer.put(UInt64(d.typeID), 8)
        writer.put(UInt64(d.segmentNum), 8)
        writer.put(UInt64(d.segmentsExpected), 8)
        if let sub = d.subSegment {
            writer.put(UInt64(sub.num), 8)
            writer.put(UInt64(sub.expected), 8)
        }
    }
}
