/// A splice_descriptor of a splice_info_section (§10): segmentation descriptors are read into
/// fields; the others (avail, DTMF, time, audio, private) keep their bytes.
public enum SpliceDescriptor: Sendable, Hashable {
    case segmentation(SegmentationDescriptor)
    /// splice_descriptor_tag, identifier, and the bytes after the identifier.
    case other(tag: UInt8, identifier: UInt32, bytes: [UInt8])
}

/// segmentation_descriptor (§10.3.3): the boundaries of programs, chapters, breaks and
/// opportunities, with a unique program identifier (UPID).
public struct SegmentationDescriptor: Sendable, Hashable {
    /// splice_descriptor_tag of a segmentation_descriptor.
    public static let tag: UInt8 = 0x02
    /// "CUEI", the identifier of SCTE-35 descriptors.
    public static let cueIdentifier: UInt32 = 0x4355_4549

    /// segmentation_type_id values that start a break: break, provider/distributor
    /// advertisement, placement opportunity, overlay placement opportunity and ad block starts.
    public static let startTypes: Set<UInt8> = [0x22, 0x30, 0x32, 0x34, 0x36, 0x38, 0x3a, 0x3c, 0x3e, 0x44, 0x46]
    /// The matching ends.
    public static let endTypes: Set<UInt8> = [0x23, 0x31, 0x33, 0x35, 0x37, 0x39, 0x3b, 0x3d, 0x3f, 0x45, 0x47]
    /// Types that may carry sub_segment_num and sub_segments_expected.
    static let subSegmentTypes: Set<UInt8> = [0x34, 0x36, 0x38, 0x3a, 0x44, 0x46]

    /// A component of a component-level segmentation (program_segmentation_flag 0).
    public struct Component: Sendable, Hashable {
        public var tag: UInt8
        /// pts_offset (90 kHz, 33 bits).
        public var ptsOffset: UInt64
        public init(tag: UInt8, ptsOffset: UInt64) {
            self.tag = tag
            self.ptsOffset = ptsOffset
        }
    }

    /// Delivery restrictions, present when delivery_not_restricted_flag is 0.
    public struct Restrictions: Sendable, Hashable {
        public var webDeliveryAllowed: Bool
        public var noRegionalBlackout: Bool
        public var archiveAllowed: Bool
        /// device_restrictions (2 bits).
        public var deviceRestrictions: UInt8
        public init(webDeliveryAllowed: Bool, noRegionalBlackout: Bool, archiveAllowed: Bool, deviceRestrictions: UInt8) {
            self.webDeliveryAllowed = webDeliveryAllowed
            self.noRegionalBlackout = noRegionalBlackout
            self.archiveAllowed = archiveAllowed
            self.deviceRestrictions = deviceRestrictions
        }
    }

    public var identifier: UInt32 = SegmentationDescriptor.cueIdentifier
    public var eventID: UInt32
    /// segmentation_event_cancel_indicator: only the event ID is coded.
    public var cancel: Bool = false
    public var eventIDCompliance: Bool = true
    /// nil: delivery_not_restricted_flag 1.
    public var restrictions: Restrictions?
    /// Empty: program_segmentation_flag 1.
    public var components: [Component] = []
    /// segmentation_duration (90 kHz, 40 bits), nil when segmentation_duration_flag is 0.
    public var duration: UInt64?
    public var upidType: UInt8 = 0
    /// The segmentation_upid bytes as coded.
    public var upid: [UInt8] = []
    public var typeID: UInt8
    public var segmentNum: UInt8 = 0
    public var segmentsExpected: UInt8 = 0
    /// sub_segment_num and sub_segments_expected, when coded.
    public var subSegment: (num: UInt8, expected: UInt8)? {
        get { subSegmentNum.map { ($0, subSegmentsExpected ?? 0) } }
        set { subSegmentNum = newValue?.num; subSegmentsExpected = newValue?.expected }
    }
    var subSegmentNum: UInt8?
    var subSegmentsExpected: UInt8?

    public init(eventID: UInt32, typeID: UInt8, duration: UInt64? = nil, upidType: UInt8 = 0, upid: [UInt8] = [],
                cancel: Bool = false) {
        self.eventID = eventID
        self.typeID = typeID
        self.duration = duration
        self.upidType = upidType
        self.upid = upid
        self.cancel = cancel
    }
}
