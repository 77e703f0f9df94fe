internal import CFFmpeg
import KerfCore

/// One compressed sample (FFmpeg `AVPacket`), owned by this object and freed in `deinit`.
///
/// A `Packet` is reused across reads (`MediaInput.read(into:)` unreferences the previous
/// payload). Sharing the payload with another owner is explicit: `makeReference()` adds a
/// reference to the same refcounted buffer instead of copying bytes.
public final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    /// An empty packet.
    public init() {
        guard let pointer = av_packet_alloc() else {
            fatalError("av_packet_alloc: out of memory")
        }
        self.pointer = pointer
        LiveObjects.packetCount.add(1, ordering: .relaxed)
    }

    /// A packet holding a copy of `bytes`.
    public convenience init(bytes: some Collection<UInt8>) throws(MediaError) {
        self.init()
        try replacePayload(with: bytes)
    }

    /// Drops this packet's payload and properties and gives it a copy of `bytes`.
    public func replacePayload(with bytes: some Collection<UInt8>) throws(MediaError) {
        av_packet_unref(pointer)
        try LibAV.check(av_new_packet(pointer, Int32(bytes.count)), "av_new_packet", "cannot allocate packet")
        let data = UnsafeMutableBufferPointer(start: pointer.pointee.data, count: bytes.count)
        if bytes.withContiguousStorageIfAvailable({ source in _ = data.update(fromContentsOf: source) }) == nil {
            _ = data.update(fromContentsOf: bytes)
        }
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
        LiveObjects.packetCount.subtract(1, ordering: .relaxed)
    }

    /// A new packet referencing the same payload (`av_packet_ref`): no bytes are copied when the
    /// payload is refcounted.
    public func makeReference() throws(MediaError) -> Packet {
        let copy = Packet()
        try LibAV.check(av_packet_ref(copy.pointer, pointer), "av_packet_ref", "cannot reference packet")
        return copy
    }

    /// A packet carrying `bytes` with this packet's timestamps, flags, stream and time base.
    public func replacingPayload(_ bytes: [UInt8]) throws(MediaError) -> Packet {
        let copy = try Packet(bytes: bytes)
        try LibAV.check(av_packet_copy_props(copy.pointer, pointer), "av_packet_copy_props", "cannot copy packet properties")
        copy.pointer.pointee.stream_index = pointer.pointee.stream_index
        return copy
    }

    /// Releases the payload and resets every field; the object stays usable.
    public func unref() { av_packet_unref(pointer) }

    /// Moves this packet's payload and fields into `other`, leaving this packet empty.
    public func move(into other: Packet) {
        av_packet_unref(other.pointer)
        av_packet_move_ref(other.pointer, pointer)
    }

    /// True when the packet carries no payload.
    public var isEmpty: Bool { pointer.pointee.data == nil && pointer.pointee.size == 0 }

    public var size: Int { Int(pointer.pointee.size) }

    public var streamIndex: Int {
        get { Int(pointer.pointee.stream_index) }
        set { pointer.pointee.stream_index = Int32(newValue) }
    }

    /// The time base of `pts`, `dts` and `duration`.
    public var timeBase: Rational {
        get { Rational(pointer.pointee.time_base) }
        set { pointer.pointee.time_base = AVRational(newValue) }
    }

    /// True for a packet that starts a random access point (`AV_PKT_FLAG_KEY`).
    public var isKeyframe: Bool {
        get { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }
        set {
            if newValue { pointer.pointee.flags |= AV_PKT_FLAG_KEY } else { pointer.pointee.flags &= ~AV_PKT_FLAG_KEY }
        }
    }

    /// True when the demuxer marks the packet for decoding only, not presentation (e.g. AAC
    /// priming before an edit list's start).
    public var isDiscard: Bool { pointer.pointee.flags & AV_PKT_FLAG_DISCARD != 0 }

    /// Presentation and decode timestamps and duration in ticks of `timeBase`; `nil` when unset.
    public var ptsTicks: Int64? {
        get { pointer.pointee.pts == LibAV.noPTS ? nil : pointer.pointee.pts }
        set { pointer.pointee.pts = newValue ?? LibAV.noPTS }
    }
    public var dtsTicks: Int64? {
        get { pointer.pointee.dts == LibAV.noPTS ? nil : pointer.pointee.dts }
        set { pointer.pointee.dts = newValue ?? LibAV.noPTS }
    }
    public var durationTicks: Int64 {
        get { pointer.pointee.duration }
        set { pointer.pointee.duration = newValue }
    }

    /// Presentation time, or `nil` when the packet has none or no valid time base.
    public var pts: MediaTime? { time(ptsTicks) }
    public var dts: MediaTime? { time(dtsTicks) }
    public var duration: MediaTime? { durationTicks > 0 ? time(durationTicks) : nil }

    private func time(_ ticks: Int64?) -> MediaTime? {
        let base = timeBase
        guard let ticks, base.numerator > 0, base.denominator > 0 else { return nil }
        return MediaTime(value: ticks, timeBase: base)
    }

    /// Converts pts, dts and duration to another time base (`av_packet_rescale_ts`).
    public func rescale(to newBase: Rational) {
        let old = pointer.pointee.time_base
        if old.num > 0 && old.den > 0 {
            av_packet_rescale_ts(pointer, old, AVRational(newBase))
        }
        pointer.pointee.time_base = AVRational(newBase)
    }

    /// Calls `body` with the payload bytes, valid only during the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let data = pointer.pointee.data else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: data, count: Int(pointer.pointee.size)))
    }

    /// A copy of the payload bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the payload bytes to change in place, valid only during the call. A
    /// payload shared with other packets is copied first (`av_packet_make_writable`), so their
    /// bytes never change.
    /// - Throws: `MediaError` when the copy cannot be made; what `body` throws.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R {
        try LibAV.check(av_packet_make_writable(pointer), "av_packet_make_writable", "cannot copy a shared packet to change it")
        guard let data = pointer.pointee.data else { return try body(UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeMutableRawBufferPointer(start: data, count: Int(pointer.pointee.size)))
    }

    /// Calls `body` with the payload bytes of every packet, in order, valid only during the call
    /// (for one gathering write of many payloads).
    public static func withUnsafeBytes<R>(of packets: [Packet], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
        let buffers = packets.map { packet in
            UnsafeRawBufferPointer(start: packet.pointer.pointee.data, count: packet.pointer.pointee.data == nil ? 0 : Int(packet.pointer.pointee.size))
        }
        return try withExtendedLifetime(packets) { try body(buffers) }
    }
}

extension Rational {
    init(_ value: AVRational) { self.init(Int64(value.num), Int64(value.den)) }
}

extension AVRational {
    init(_ value: Rational) { self.init(num: Int32(value.numerator), den: Int32(value.denominator)) }
}
