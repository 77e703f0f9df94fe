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
    /// - Parameters:
    ///   - encryption: the `senc` entries of the fragment's samples, in order, when they are
    ///     encrypted: `saiz`, `saio` and `senc` follow the `trun`, `saio` pointing at the first
    ///     entry of `senc` relative to the `moof` (default-base-is-moof).
    ///   - sampleDescriptionIndex: written in `tfhd` when given (2: the clear sample entry of
    ///     a protected track, for clear-lead fragments).
    @discardableResult
    func serializeHeader(sequenceNumber: UInt32, trackID: UInt32, encryption: FragmentEncryption? = nil,
                         sampleDescriptionIndex: UInt32? = nil, into w: inout BoxWriter) -> Int {
        let moofStart = w.bytes.count
        var dataOffsetPosition = 0
        var auxiliaryOffsetPosition = 0
        let signed = samples.contains { $0.compositionOffset < 0 }
        let hasOffsets = samples.contains { $0.compositionOffset != 0 }
        w.box("moof") { b in
            b.fullBox("mfhd", version: 0, flags: 0) { $0.u32(sequenceNumber) }
            if let encryption { b.bytes += encryption.psshBoxes }
            b.box("traf") { t in
                if let sampleDescriptionIndex {
                    t.fullBox("tfhd", version: 0, flags: 0x020000 | 0x000002) { h in
                        h.u32(trackID)
                        h.u32(sampleDescriptionIndex)
                    }
                } else {
                    t.fullBox("tfhd", version: 0, flags: 0x020000) { $0.u32(trackID) }
                }
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
                if let encryption {
                    auxiliaryOffsetPosition = encryption.serialize(into: &t)
                }
            }
        }
        let moofSize = w.bytes.count - moofStart
        w.patch32(at: dataOffsetPosition, UInt32(moofSize + 8))
        if encryption != nil {
            // saio holds the senc entries' offset from the moof; it was written as an absolute position.
            let absolute = Int(w.bytes[auxiliaryOffsetPosition]) << 24 | Int(w.bytes[auxiliaryOffsetPosition + 1]) << 16
                | Int(w.bytes[auxiliaryOffsetPosition + 2]) << 8 | Int(w.bytes[auxiliaryOffsetPosition + 3])
            w.patch32(at: auxiliaryOffsetPosition, UInt32(absolute - moofStart))
        }
        w.u32(UInt32(payloadSize + 8))
        w.fourCC("mdat")
        return moofSize
    }
}

/// The sample encryption boxes of one fragment (ISO/IEC 23001-7 §7): `saiz`, `saio`, `senc`;
/// under key rotation also a `seig` sample group (`sbgp`, `sgpd`) naming the fragment's key and
/// the DRM systems' `pssh` boxes for it in the `moof`.
struct FragmentEncryption {
    var entries: [SampleEncryptionEntry]
    /// `senc` flag 0x2: entries carry subsample maps.
    var usesSubsamples: Bool
    /// The `seig` entry of the fragment's key (key rotation), nil when `tenc` names it.
    var keyGroup: [UInt8]? = nil
    /// `pssh` boxes written in the `moof` before the `traf`.
    var psshBoxes: [UInt8] = []

    /// Appends `sbgp` and `sgpd` (key rotation), `saiz`, `saio` and `senc` to a `traf` being written.
    /// - Returns: the position of `saio`'s offset field in `w`, holding for now the absolute
    ///   position (in `w`) of the first `senc` entry; the caller makes it relative to the `moof`.
    func serialize(into w: inout BoxWriter) -> Int {
        if let keyGroup {
            w.fullBox("sbgp", version: 0, flags: 0) { b in
                b.fourCC("seig")
                b.u32(1)
                b.u32(UInt32(entries.count))
                b.u32(0x1_0001)  // the first entry of this fragment's sgpd
            }
            w.fullBox("sgpd", version: 1, flags: 0) { b in
                b.fourCC("seig")
                b.u32(UInt32(keyGroup.count))
                b.u32(1)
                b.bytes += keyGroup
            }
        }
        let sizes = entries.map(\.auxiliarySize)
        let uniform = sizes.allSatisfy { $0 == sizes.first } && (sizes.first ?? 0) > 0
        w.fullBox("saiz", version: 0, flags: 0) { b in
            b.u8(uniform ? UInt8(sizes[0]) : 0)
            b.u32(UInt32(entries.count))
            if !uniform { for size in sizes { b.u8(UInt8(clamping: size)) } }
        }
        var offsetPosition = 0
        w.fullBox("saio", version: 0, flags: 0) { b in
            b.u32(1)
            offsetPosition = b.bytes.count
            b.u32(0)
        }
        w.fullBox("senc", version: 0, flags: usesSubsamples ? 0x2 : 0) { b in
            b.u32(UInt32(entries.count))
            b.patch32(at: offsetPosition, UInt32(b.bytes.count))
            for entry in entries {
                b.bytes += entry.iv
                if let subsamples = entry.subsamples {
                    b.u16(UInt16(subsamples.count))
                    for subsample in subsamples {
                        b.u16(UInt16(subsample.clear))
                        b.u32(UInt32(subsample.protected))
                    }
                }
            }
        }
        return offsetPosition
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
