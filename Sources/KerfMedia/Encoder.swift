internal import CFFmpeg
import KerfCore

/// Encodes frames into packets (`AVCodecContext` for encoding).
///
/// Send/receive, as libavcodec: `send(_:)` a frame, `receive(into:)` until `.tryAgain`; at the
/// end `drain()` and `receive(into:)` until `.endOfStream`. The life cycle is enforced by a
/// `CodecStateMachine`; calls in the wrong state throw `MediaError(.wrongState)`.
public final class Encoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var machine = CodecStateMachine(role: "encoder")
    public let settings: EncoderSettings
    /// The GPU device the encoder runs on, if any.
    public let hardware: HardwareDevice?
    /// The GPU picture pool frames are sent from, for encoders that take only GPU frames.
    public let frames: HardwareFrames?
    public var state: CodecStateMachine.State { machine.state }

    /// Finds the encoder and prepares its context; `open()` applies the settings.
    /// - Throws: `.codecUnavailable` when this FFmpeg has no encoder of that name.
    public init(settings: EncoderSettings, hardware: HardwareDevice? = nil, frames: HardwareFrames? = nil) throws(MediaError) {
        MediaLibrary.initialize()
        self.settings = settings
        self.hardware = hardware ?? frames?.device
        self.frames = frames
        guard let codec = avcodec_find_encoder_by_name(settings.codecName) else {
            throw MediaError(.codecUnavailable, "no encoder named \(settings.codecName) in this FFmpeg",
                             function: "avcodec_find_encoder_by_name")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, "cannot allocate encoder", function: "avcodec_alloc_context3")
        }
        self.context = context
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        avcodec_free_context(&context)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// Applies the settings and opens the codec. Created → Opened.
    /// - Throws: `.invalidArgument` for an unknown pixel/sample format or an option the encoder
    ///   does not take; the library's error when the encoder refuses to open (no device…).
    public func open() throws(MediaError) {
        _ = try machine.open()
        guard let context else { return }
        let s = settings
        context.pointee.time_base = AVRational(s.timeBase)
        if context.pointee.codec_type == AVMEDIA_TYPE_VIDEO {
            context.pointee.width = Int32(s.width ?? 0)
            context.pointee.height = Int32(s.height ?? 0)
            context.pointee.pix_fmt = try pixelFormat(s.pixelFormat)
            if let rate = s.frameRate { context.pointee.framerate = AVRational(rate) }
            if let sar = s.sampleAspectRatio { context.pointee.sample_aspect_ratio = AVRational(sar) }
            if let gop = s.gopSize { context.pointee.gop_size = Int32(gop) }
            if let b = s.maxBFrames { context.pointee.max_b_frames = Int32(b) }
        } else if context.pointee.codec_type == AVMEDIA_TYPE_AUDIO {
            context.pointee.sample_rate = Int32(s.sampleRate ?? 48000)
            av_channel_layout_uninit(&context.pointee.ch_layout)
            av_channel_layout_default(&context.pointee.ch_layout, Int32(s.channels ?? 2))
            context.pointee.sample_fmt = try sampleFormat(s.sampleFormat)
        }
        if let rate = s.bitRate { context.pointee.bit_rate = Int64(rate) }
        if let rate = s.maxRate { context.pointee.rc_max_rate = Int64(rate) }
        if let size = s.bufferSize { context.pointee.rc_buffer_size = Int32(size) }
        context.pointee.thread_count = Int32(s.threads)
        if s.globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        if let hardware { context.pointee.hw_device_ctx = av_buffer_ref(hardware.reference) }
        if let frames { context.pointee.hw_frames_ctx = av_buffer_ref(frames.reference) }

        var options = Dictionary(s.options)
        defer { av_dict_free(&options.pointer) }
        let result = avcodec_open2(context, nil, &options.pointer)
        if result < 0 {
            throw LibAV.error(result, "avcodec_open2", "cannot open encoder \(s.codecName)")
        }
        let unused = Dictionary.keys(options.pointer)
        if !unused.isEmpty {
            throw MediaError(.invalidArgument, "encoder \(s.codecName) does not take option(s) \(unused.joined(separator: ", "))")
        }
        machine.opened()
    }

    private func pixelFormat(_ name: String?) throws(MediaError) -> AVPixelFormat {
        if let name {
            let format = av_get_pix_fmt(name)
            guard format != AV_PIX_FMT_NONE else { throw MediaError(.invalidArgument, "unknown pixel format \(name)") }
            return format
        }
        return context?.pointee.codec.pointee.pix_fmts?.pointee ?? AV_PIX_FMT_YUV420P
    }

    private func sampleFormat(_ name: String?) throws(MediaError) -> AVSampleFormat {
        if let name {
            let format = av_get_sample_fmt(name)
            guard format != AV_SAMPLE_FMT_NONE else { throw MediaError(.invalidArgument, "unknown sample format \(name)") }
            return format
        }
        return context?.pointee.codec.pointee.sample_fmts?.pointee ?? AV_SAMPLE_FMT_FLTP
    }

    /// Sends one frame (its `pts` in `settings.timeBase`). Opened/Streaming → Streaming.
    /// - Returns: `.tryAgain` when packets must be received before the frame is accepted.
    public func send(_ frame: Frame) throws(MediaError) -> SendResult {
        _ = try machine.send()
        let result = avcodec_send_frame(context, frame.pointer)
        if result == LibAV.eagain { return .tryAgain }
        try LibAV.check(result, "avcodec_send_frame", "cannot encode frame")
        return .accepted
    }

    /// Signals the end of input. Opened/Streaming → Draining.
    public func drain() throws(MediaError) {
        _ = try machine.drain()
        let result = avcodec_send_frame(context, nil)
        if result != LibAV.eof {
            try LibAV.check(result, "avcodec_send_frame", "cannot drain encoder")
        }
    }

    /// Receives the next packet into `packet` (replacing its content); the packet's time base is
    /// the encoder's.
    public func receive(into packet: Packet) throws(MediaError) -> ReceiveResult {
        if try machine.receive() == .reportEndOfStream { return .endOfStream }
        av_packet_unref(packet.pointer)
        let result = avcodec_receive_packet(context, packet.pointer)
        if result == LibAV.eagain { return .tryAgain }
        if result == LibAV.eof {
            machine.reachedEndOfStream()
            return .endOfStream
        }
        try LibAV.check(result, "avcodec_receive_packet", "cannot encode")
        packet.pointer.pointee.time_base = context!.pointee.time_base
        return .output
    }

    /// Frees the codec. Any state → Closed; closing twice does nothing.
    public func close() {
        if machine.close() == .freeCodec {
            avcodec_free_context(&context)
        }
    }

    /// Codec parameters of the encoded stream (extradata included), for a `MediaOutput`.
    /// - Throws: `.wrongState` before `open()`.
    public func codecParameters() throws(MediaError) -> CodecParameters {
        guard let context, machine.state != .created else {
            throw MediaError(.wrongState, "encoder has no parameters while \(machine.state.rawValue)")
        }
        guard let parameters = avcodec_parameters_alloc() else {
            throw MediaError(.outOfMemory, "cannot allocate codec parameters", function: "avcodec_parameters_alloc")
        }
        defer { var p: UnsafeMutablePointer<AVCodecParameters>? = parameters; avcodec_parameters_free(&p) }
        try LibAV.check(avcodec_parameters_from_context(parameters, context), "avcodec_parameters_from_context",
                        "cannot read encoder parameters")
        return try CodecParameters(copying: parameters)
    }

    /// True when this FFmpeg has an encoder of that name.
    public static func exists(named name: String) -> Bool {
        MediaLibrary.initialize()
        return avcodec_find_encoder_by_name(name) != nil
    }

    /// Samples per channel each audio frame must carry (0: any).
    public var frameSize: Int { Int(context?.pointee.frame_size ?? 0) }
    /// The time base packets come out in (may differ from the one requested after `open()`).
    public var timeBase: Rational { context.map { Rational($0.pointee.time_base) } ?? settings.timeBase }
}
