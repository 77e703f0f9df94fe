import KerfMedia

/// One sample of a CMAF fragment, timed in the track's timescale.
struct FragmentSample: Sendable {
    var decodeTime: Int64
    var duration: Int64
    var size: Int
    var isSync: Bool
    /// Presentation time minus decode time; may be negative (trun version 1).
    var compositionOffset: Int64
}

/// One CMAF fragment of a media segment: `moof` (`mfhd`, `traf` with `tfhd`
/// default-base-is-moof, `tfdt` v1, `trun`) and `mdat` (ISO/IEC 23000-19 §7.3.2.2).
///
/// Sample payloads stay in their refcounted packets until the fragment is written, so a
/// segment is never copied into one buffer: the header is built, then each payload is written.
struct Fragment {
    var samples: [FragmentSample] = []
    var packets: [Packet] = []
    var payloadSize = 0

    var isEmpty: Bool { samples.isEmpty }
    var baseDecodeTime: Int64 { samples.first?.decodeTime ?? 0 }
    var endDecodeTime: Int64 { samples.last.map { $0.decodeTime + $0.duration } ?? 0 }

    mutating func append(_ sample: FragmentSample, packet: Packet) {
        samples.append(sample)
        packets.append(packet)
        payloadSize += sample.size
    }

    /// The `styp` that opens every Kerf media segment: CMAF segment and DASH media segment
    /// brands (not `msix`, which promises a `sidx` in every segment).
    static let segmentType: [UInt8] = {
        var w = BoxWriter()
        w.box("styp") { b in
            b.fourCC("cmfs"); b.u32(0)
            b.fourCC("cmfs"); b.fourCC("msdh")
        }
        return w.bytes
    }()

    /// Appends `moof` and the `mdat` header to `w`; the payloads must follow, in order.
    /// - Returns: the size of the `moof` box.
    @discardableResult
    func serializeHeader(sequenceNumber: UInt32, trackID: UInt32, into w: inout BoxWriter) -> Int {
        let moofStart = w.bytes.count
        var dataOffsetPosition = 0
        let signed = samples.contains { $0.compositionOffset < 0 }
        let hasOffsets = samples.contains { $0.compositionOffset != 0 }
        w.box("moof") { b in
            b.fullBox("mfhd", version: 0, flags: 0) { $0.u32(sequenceNumber) }
            b.box("traf") { t in
                t.fullBox("tfhd", version: 0, flags: 0x020000) { $0.u32(trackID) }
                t.fullBox("tfdt", version: 1, flags: 0) { $0.u64(UInt64(bitPattern: baseDecodeTime)) }
                let flags: UInt32 = 0x000001 | 0x000100 | 0x000200 | 0x000400 | (hasOffsets ? 0x000800 : 0)
                t.fullBox("trun", version: signed ? 1 : 0, flags: flags) { r in
                    r.u32(UInt32(samples.count))
                    dataOffsetPosition = r.bytes.count
                    r.u32(0)
                    for s in samples {
                        r.u32(UInt32(truncatingIfNeeded: s.duration))
                        r.u32(UInt32(s.size))
                        r.u32(s.isSync ? 0x0200_0000 : 0x0101_0000)
                        if hasOffsets { r.u32(UInt32(truncatingIfNeeded: s.compositionOffset)) }
                    }
                }
            }
        }
        let moofSize = w.bytes.count - moofStart
        w.patch32(at: dataOffsetPosition, UInt32(moofSize + 8))
        w.u32(UInt32(payloadSize + 8))
        w.fourCC("mdat")
        return moofSize
    }
}

/// A segment index (`sidx`, ISO/IEC 14496-12 §8.16.3) over consecutive subsegments.
enum SegmentIndex {
    struct Reference {
        var size: Int
        var duration: Int64
        var startsWithSAP: Bool
    }

    /// - Parameter earliestPresentationTime: of the first subsegment, in `timescale`.
    static func serialize(trackID: UInt32, timescale: UInt32, earliestPresentationTime: Int64,
                          references: [Reference]) -> [UInt8] {
        var w = BoxWriter()
        w.fullBox("sidx", version: 1, flags: 0) { b in
            b.u32(trackID)
            b.u32(timescale)
            b.u64(UInt64(bitPattern: earliestPresentationTime))
            b.u64(0)  // first_offset: subsegments follow the sidx immediately
            b.u16(0)
            b.u16(UInt16(references.count))
            for r in references {
                b.u32(UInt32(r.size) & 0x7fff_ffff)
                b.u32(UInt32(truncatingIfNeeded: r.duration))
                b.u32(r.startsWithSAP ? 0x9000_0000 : 0)  // starts_with_SAP=1, SAP_type=1
            }
        }
        return w.bytes
    }
}
