import KerfCore

/// A DASH event carried in the CMAF segments as an `emsg` box (ISO/IEC 23009-1 §5.10.3.3,
/// version 1) and signalled in the MPD by an InbandEventStream of its scheme: a timed ID3 tag
/// (AOM "Carriage of ID3 Timed Metadata in CMAF", scheme `https://aomedia.org/emsg/ID3`) or a
/// splice (SCTE 214-3, scheme `urn:scte:scte35:2013:bin`, the splice_info_section as data).
package struct EventMessage: Sendable, Equatable {
    package static let id3Scheme = "https://aomedia.org/emsg/ID3"
    package static let scte35Scheme = "urn:scte:scte35:2013:bin"

    /// Where the message goes.
    package enum Placement: Sendable, Equatable {
        /// Before the fragment its time falls in (or the first one, for a time before the track
        /// starts).
        case fragment
        /// Before the first fragment of the first segment that starts at or after its time
        /// (`tolerance` early counts as at), its presentation time moved to that segment's
        /// start: a splice is where the segmenter cut for it, which may be a later keyframe.
        case segmentStart(tolerance: MediaTime)
    }

    package var scheme: String
    /// Presentation time from the presentation start (a live channel: on its timeline).
    package var time: MediaTime
    /// The event's duration (nil: unknown, 0xFFFFFFFF).
    package var duration: MediaTime?
    /// The event id (nil: numbered by the writer, per track).
    package var id: UInt32?
    package var data: [UInt8]
    package var placement: Placement

    package init(scheme: String, time: MediaTime, duration: MediaTime? = nil, id: UInt32? = nil, data: [UInt8],
                 placement: Placement = .fragment) {
        self.scheme = scheme
        self.time = time
        self.duration = duration
        self.id = id
        self.data = data
        self.placement = placement
    }

    /// A timed ID3 tag, at its time.
    package static func timedID3(time: MediaTime, tag: [UInt8]) -> EventMessage {
        EventMessage(scheme: id3Scheme, time: time, data: tag)
    }

    /// A splice's section in the segment that starts at it (`tolerance`: half a frame).
    package static func splice(time: MediaTime, duration: MediaTime?, id: UInt32, section: [UInt8],
                               tolerance: MediaTime) -> EventMessage {
        EventMessage(scheme: scte35Scheme, time: time, duration: duration, id: id, data: section,
                     placement: .segmentStart(tolerance: tolerance))
    }

    /// An emsg id made of a text (FNV-1a, 32 bits): a live channel's DATERANGE ID, unique in the
    /// channel where a looped input repeats its event ids.
    package static func identifier(_ text: String) -> UInt32 {
        text.utf8.reduce(2_166_136_261 as UInt32) { ($0 ^ UInt32($1)) &* 16_777_619 }
    }

    /// A splice_info_section's CRC_32 (its last four bytes): an id that tells its sections apart.
    package static func sectionCRC(_ section: [UInt8]) -> UInt32 {
        section.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The `emsg` box in a track of `timescale`, at `time` (default: the message's), with the
    /// message's id or else `fallbackID`.
    func box(timescale: Int64, at time: MediaTime? = nil, fallbackID: UInt32) -> [UInt8] {
        var w = BoxWriter()
        w.fullBox("emsg", version: 1, flags: 0) {
            $0.u32(UInt32(timescale))
            $0.u64(UInt64(max((time ?? self.time).rescaled(to: timescale).value, 0)))
            $0.u32(duration.map { UInt32(clamping: max($0.rescaled(to: timescale).value, 0)) } ?? 0xFFFF_FFFF)
            $0.u32(id ?? fallbackID)
            $0.bytes.append(contentsOf: Array(scheme.utf8) + [0])
            $0.bytes.append(0)  // value: empty
            $0.bytes.append(contentsOf: data)
        }
        return w.bytes
    }
}
