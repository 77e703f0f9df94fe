internal import CFFmpeg
import KerfCore

/// Decodes packets of one stream into frames (`AVCodecContext` for decoding).
///
/// Send/receive, as libavcodec: `send(_:)` a packet, then `receive(into:)` until `.tryAgain`;
/// at the end `drain()` and `receive(into:)` until `.endOfStream`. The life cycle is enforced
/// by a `CodecStateMachine`; calls in the wrong state throw `MediaError(.wrongState)`.
public final class Decoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var machine = CodecStateMachine(role: "decoder")
    /// The GPU device decoding runs on, or `nil` for software decoding.
    public let hardware: HardwareDevice?
    /// Time base of the packets sent and of the frames' timestamps.
    public let timeBase: Rational
    /// Name of the libavcodec decoder in use ("h264", "hevc", "aac").
    public let name: String
    private let subject: String?

    public var state: CodecStateMachine.State { machine.state }

    /// Creates a decoder for a stream; `open()` must be called before sending.
    /// - Parameters:
    ///   - parameters: the stream's codec parameters (`MediaInput.codecParameters(track:)`).
    ///   - timeBase: the time base of the packets that will be sent.
    ///   - hardware: an opened device to decode on, when the decoder supports it.
    ///   - threads: decoding threads, 0 for libavcodec's choice.
    ///   - subject: file name used in errors.
    ///   - strict: fail on any error the decoder detects in the bitstream (`AV_EF_EXPLODE`)
    ///     instead of concealing it: for checking that data decodes, not for playing it.
    /// - Throws: `.codecUnavailable` when no decoder exists for the codec.
    public init(parameters: CodecParameters, timeBase: Rational, hardware: HardwareDevice? = nil,
                threads: Int = 0, subject: String? = nil, strict: Bool = false) throws(MediaError) {
        MediaLibrary.initialize()
        self.timeBase = timeBase
        self.subject = subject
        guard let codec = avcodec_find_decoder(parameters.pointer.pointee.codec_id) else {
            throw MediaError(.codecUnavailable, "no decoder for \(parameters.codec)", function: "avcodec_find_decoder",
                             file: subject)
        }
        name = LibAV.string(codec.pointee.name) ?? parameters.codec
        guard let context = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, "cannot allocate decoder", function: "avcodec_alloc_context3", file: subject)
        }
        self.context = context
        LiveObjects.contextCount.add(1, ordering: .relaxed)
        let copied = avcodec_parameters_to_context(context, parameters.pointer)
        if copied < 0 {
            throw LibAV.error(copied, "avcodec_parameters_to_context", "cannot configure decoder", file: subject)
        }
        context.pointee.pkt_timebase = AVRational(timeBase)
        context.pointee.thread_count = Int32(threads)
        if strict { context.pointee.err_recognition |= AV_EF_EXPLODE }
        if let hardware, let format = Decoder.hardwareFormat(codec, hardware.kind) {
            context.pointee.hw_device_ctx = av_buffer_ref(hardware.reference)
            context.pointee.opaque = UnsafeMutableRawPointer(bitPattern: Int(format.rawValue) + 1)
            context.pointee.get_format = selectHardwareFormat
            self.hardware = hardware
        } else {
            self.hardware = nil
        }
    }

    deinit {
        avcodec_free_context(&context)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// Opens the codec. Created → Opened.
    public func open() throws(MediaError) {
        _ = try machine.open()
        let result = avcodec_open2(context, nil, nil)
        if result < 0 {
            throw LibAV.error(result, "avcodec_open2", "cannot open decoder \(name)", file: subject)
        }
        machine.opened()
    }

    /// Sends one packet. Opened/Streaming → Streaming.
    /// - Returns: `.tryAgain` when output must be received before this packet is accepted.
    /// - Throws: `.invalidData` for a packet the decoder rejects; `.wrongState` after `drain()`.
    public func send(_ packet: Packet) throws(MediaError) -> SendResult {
        _ = try machine.send()
        let result = avcodec_send_packet(context, packet.pointer)
        if result == LibAV.eagain { return .tryAgain }
        try LibAV.check(result, "avcodec_send_packet", "cannot decode packet", file: subject)
        return .accepted
    }

    /// Signals the end of input. Opened/Streaming → Draining.
    public func drain() throws(MediaError) {
        _ = try machine.drain()
        let result = avcodec_send_packet(context, nil)
        if result != LibAV.eof {
            try LibAV.check(result, "avcodec_send_packet", "cannot drain decoder", file: subject)
        }
    }

    /// Receives the next decoded frame into `frame` (replacing its content).
    public func receive(into frame: Frame) throws(MediaError) -> ReceiveResult {
        if try machine.receive() == .reportEndOfStream { return .endOfStream }
        av_frame_unref(frame.pointer)
        let result = avcodec_receive_frame(context, frame.pointer)
        if result == LibAV.eagain { return .tryAgain }
        if result == LibAV.eof {
            machine.reachedEndOfStream()
            return .endOfStream
        }
        try LibAV.check(result, "avcodec_receive_frame", "cannot decode", file: subject)
        return .output
    }

    /// Frees the codec. Any state → Closed; closing twice does nothing.
    public func close() {
        if machine.close() == .freeCodec {
            avcodec_free_context(&context)
        }
    }

    /// Output picture size and pixel format, known once the decoder is opened.
    public var width: Int { Int(context?.pointee.width ?? 0) }
    public var height: Int { Int(context?.pointee.height ?? 0) }
    public var pixelFormatName: String? {
        guard let format = context?.pointee.pix_fmt, format.rawValue >= 0 else { return nil }
        return LibAV.string(av_get_pix_fmt_name(format))
    }
    public var sampleRate: Int { Int(context?.pointee.sample_rate ?? 0) }

    /// The pixel format a decoder produces on `kind`, if it supports that device.
    static func hardwareFormat(_ codec: UnsafePointer<AVCodec>, _ kind: HardwareDevice.Kind) -> AVPixelFormat? {
        var index: Int32 = 0
        while let config = avcodec_get_hw_config(codec, index) {
            if config.pointee.methods & Int32(AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) != 0,
               config.pointee.device_type == kind.type {
                return config.pointee.pix_fmt
            }
            index += 1
        }
        return nil
    }
}

/// `get_format` callback: picks the hardware pixel format stored in `opaque` when offered,
/// otherwise the first software format (libavcodec's fallback when the device cannot decode).
private let selectHardwareFormat: @convention(c) (UnsafeMutablePointer<AVCodecContext>?, UnsafePointer<AVPixelFormat>?) -> AVPixelFormat = { context, formats in
    guard let formats else { return AV_PIX_FMT_NONE }
    let wanted = Int32(Int(bitPattern: context?.pointee.opaque) - 1)
    var index = 0
    while formats[index] != AV_PIX_FMT_NONE {
        if formats[index].rawValue == wanted { return formats[index] }
        index += 1
    }
    return formats[0]
}
