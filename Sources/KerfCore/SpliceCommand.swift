/// The splice command of a splice_info_section (ANSI/SCTE 35 §9.7).
public enum SpliceCommand: Sendable, Hashable {
    /// splice_null (0x00).
    case null
    /// splice_insert (0x05).
    case insert(SpliceInsert)
    /// time_signal (0x06): the splice time, nil when time_specified_flag is 0.
    case timeSignal(UInt64?)
    /// Any other command (splice_schedule, bandwidth_reservation, private_command), its bytes
    /// kept as they were.
    case other(type: UInt8, bytes: [UInt8])

    /// splice_command_type.
    public var type: UInt8 {
        switch self {
        case .null: return 0x00
        case .insert: return 0x05
        case .timeSignal: return 0x06
        case .other(let type, _): return type
        }
    }
}

/// splice_insert (§9.7.3): leave or return to the network at a time or at once.
public struct SpliceInsert: Sendable, Hashable {
    /// A component-level splice (program_splice_flag 0): the component and its splice time.
    public struct Component: Sendable, Hashable {
        public var tag: UInt8
        public var spliceTime: UInt64?
        public init(tag: UInt8, spliceTime: UInt64?) {
            self.tag = tag
            self.spliceTime = spliceTime
        }
    }

    public var eventID: UInt32
    /// splice_event_cancel_indicator: the event with `eventID` is cancelled (nothing else is coded).
    public var cancel: Bool = false
    /// out_of_network_indicator: 1 leaves the network (splice out), 0 returns (splice in).
    public var outOfNetwork: Bool = true
    /// program_splice_flag: the whole program splices at one time (else per component).
    public var programSplice: Bool = true
    /// splice_immediate_flag: splice at the next opportunity; no time is coded.
    public var spliceImmediate: Bool = false
    public var eventIDCompliance: Bool = true
    /// The program splice time (90 kHz, before pts_adjustment); nil when time_specified_flag is 0.
    public var spliceTime: UInt64?
    public var components: [Component] = []
    public var breakDuration: BreakDuration?
    public var uniqueProgramID: UInt16 = 0
    public var availNum: UInt8 = 0
    public var availsExpected: UInt8 = 0

    public init(eventID: UInt32, outOfNetwork: Bool = true, spliceTime: UInt64? = nil, breakDuration: BreakDuration? = nil,
                spliceImmediate: Bool = false, cancel: Bool = false) {
        self.eventID = eventID
        self.outOfNetwork = outOfNetwork
        self.spliceTime = spliceTime
        self.breakDuration = breakDuration
        self.spliceImmediate = spliceImmediate
        self.cancel = cancel
    }
}

/// break_duration (§9.8.2).
public struct BreakDuration: Sendable, Hashable {
    /// auto_return: the splicer returns to the network when `duration` has passed.
    public var autoReturn: Bool
    /// 90 kHz ticks (33 bits).
    public var duration: UInt64
    public init(autoReturn: Bool, duration: UInt64) {
        self.autoReturn = autoReturn
        self.duration = duration
    }
}
