internal import CFFmpeg
import KerfCore

/// Converts decoded audio to an encoder's sample rate, sample format and channel count, and
/// cuts it into frames of exactly the encoder's frame size (libswresample and an audio FIFO).
///
/// Output timestamps count samples from the first input frame's timestamp, in units of
/// 1/`sampleRate`: the stream stays continuous whatever frame sizes the decoder produces.
public final class AudioResampler {
    public let sampleRate: Int
    public let channels: Int
    public let sampleFormatName: String
    /// Samples per channel in every output frame but the last.
    public let frameSize: Int
    private let format: AVSampleFormat
    private var resampler: OpaquePointer?
    private var fifo: OpaquePointer?
    private var layout = AVChannelLayout()
    /// The input format the resampler was configured for.
    private var configured: (rate: Int32, format: Int32, channels: Int32)?
    private let scratch = Frame()
    /// Timestamp (in 1/sampleRate) of the next sample leaving the FIFO.
    private var nextPTS: Int64?

    /// - Throws: `.invalidArgument` for an unknown sample format or non-positive sizes.
    public init(sampleRate: Int, channels: Int, sampleFormat: String, frameSize: Int) throws(MediaError) {
        let format = av_get_sample_fmt(sampleFormat)
        guard format != AV_SAMPLE_FMT_NONE else { throw MediaError(.invalidArgument, "unknown sample format \(sampleFormat)") }
        guard sampleRate > 0, channels > 0, frameSize > 0 else {
            throw MediaError(.invalidArgument, "cannot resample to \(sampleRate) Hz, \(channels) channels, \(frameSize)-sample frames")
        }
        self.sampleRate = sampleRate
        self.channels = channels
        self.sampleFormatName = sampleFormat
        self.frameSize = frameSize
        self.format = format
        av_channel_layout_default(&layout, Int32(channels))
        guard let fifo = av_audio_fifo_alloc(format, Int32(channels), Int32(frameSize * 4)) else {
            throw MediaError(.outOfMemory, "cannot allocate audio FIFO", function: "av_audio_fifo_alloc")
        }
        self.fifo = fifo
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        swr_free(&resampler)
        av_audio_fifo_free(fifo)
        av_channel_layout_uninit(&layout)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// The output time base, 1/`sampleRate`.
    public var timeBase: Rational { Rational(1, Int64(sampleRate)) }

    /// Converts one decoded frame (timestamps in `timeBase`) into the FIFO.
    public func push(_ frame: Frame, timeBase: Rational) throws(MediaError) {
        let input = frame.pointer
        guard input.pointee.nb_samples > 0 else { return }
        try configure(for: input)
        if input.pointee.pts != LibAV.noPTS {
            let incoming = av_rescale_q(input.pointee.pts, AVRational(timeBase), AVRational(self.timeBase))
            if let nextPTS {
                try resynchronise(incoming: incoming, from: nextPTS)
            } else {
                nextPTS = incoming
            }
        }
        let capacity = swr_get_out_samples(resampler, input.pointee.nb_samples)
        try LibAV.check(capacity, "swr_get_out_samples", "cannot size resampled audio")
        let converted = try convert(input: UnsafeMutableRawPointer(input.pointee.extended_data),
                                    count: input.pointee.nb_samples, capacity: capacity)
        try write(converted)
    }

    /// Takes the next full frame out of the FIFO into `frame`; with `flush`, also the resampler's
    /// remaining samples and a last, shorter frame.
    /// - Returns: false when no (full) frame is available.
    public func pull(into frame: Frame, flush: Bool = false) throws(MediaError) -> Bool {
        if flush, resampler != nil {
            let capacity = swr_get_out_samples(resampler, 0)
            if capacity > 0 { try write(try convert(input: nil, count: 0, capacity: capacity)) }
        }
        let available = Int(av_audio_fifo_size(fifo))
        guard available >= frameSize || (flush && available > 0) else { return false }
        let count = min(available, frameSize)
        let out = frame.pointer
        av_frame_unref(out)
        out.pointee.nb_samples = Int32(count)
        out.pointee.format = format.rawValue
        out.pointee.sample_rate = Int32(sampleRate)
        try LibAV.check(av_channel_layout_copy(&out.pointee.ch_layout, &layout), "av_channel_layout_copy", "cannot set channel layout")
        try LibAV.check(av_frame_get_buffer(out, 0), "av_frame_get_buffer", "cannot allocate audio frame")
        let read = av_audio_fifo_read(fifo, UnsafeMutableRawPointer(out.pointee.extended_data)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self), Int32(count))
        try LibAV.check(read, "av_audio_fifo_read", "cannot read audio FIFO")
        out.pointee.pts = nextPTS ?? 0
        nextPTS = (nextPTS ?? 0) + Int64(read)
        return true
    }

    /// Keeps output timestamps on the input's timeline when input is missing (a gap, a corrupt
    /// packet skipped): short gaps are filled with silence, long ones restart the timeline.
    private func resynchronise(incoming: Int64, from next: Int64) throws(MediaError) {
        let pending = Int64(av_audio_fifo_size(fifo)) + (resampler.map { swr_get_delay($0, Int64(sampleRate)) } ?? 0)
        let gap = incoming - (next + pending)
        guard gap > Int64(frameSize) else { return }
        if gap > 10 * Int64(sampleRate) {
            nextPTS = incoming - pending
            return
        }
        var remaining = Int32(gap)
        while remaining > 0 {
            let count = min(remaining, Int32(sampleRate))
            let out = scratch.pointer
            av_frame_unref(out)
            out.pointee.nb_samples = count
            out.pointee.format = format.rawValue
            out.pointee.sample_rate = Int32(sampleRate)
            try LibAV.check(av_channel_layout_copy(&out.pointee.ch_layout, &layout), "av_channel_layout_copy", "cannot set channel layout")
            try LibAV.check(av_frame_get_buffer(out, 0), "av_frame_get_buffer", "cannot allocate audio buffer")
            try LibAV.check(av_samples_set_silence(out.pointee.extended_data, 0, count, Int32(channels), format),
                            "av_samples_set_silence", "cannot make silence")
            try write(count)
            remaining -= count
        }
    }

    private func configure(for input: UnsafeMutablePointer<AVFrame>) throws(MediaError) {
        let key = (input.pointee.sample_rate, input.pointee.format, input.pointee.ch_layout.nb_channels)
        if let configured, configured == key { return }
        // A change of input format mid-stream: keep what was converted, restart the converter.
        if resampler != nil {
            let capacity = swr_get_out_samples(resampler, 0)
            if capacity > 0 { try write(try convert(input: nil, count: 0, capacity: capacity)) }
        }
        swr_free(&resampler)
        var inputLayout = AVChannelLayout()
        defer { av_channel_layout_uninit(&inputLayout) }
        if input.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || input.pointee.ch_layout.nb_channels == 0 {
            av_channel_layout_default(&inputLayout, max(1, input.pointee.ch_layout.nb_channels))
        } else {
            try LibAV.check(av_channel_layout_copy(&inputLayout, &input.pointee.ch_layout), "av_channel_layout_copy",
                            "cannot read channel layout")
        }
        try LibAV.check(swr_alloc_set_opts2(&resampler, &layout, format, Int32(sampleRate), &inputLayout,
                                            AVSampleFormat(rawValue: input.pointee.format), input.pointee.sample_rate, 0, nil),
                        "swr_alloc_set_opts2", "cannot configure resampler")
        try LibAV.check(swr_init(resampler), "swr_init", "cannot open resampler")
        configured = key
    }

    /// Runs the converter into the scratch frame and returns how many samples it produced.
    private func convert(input: UnsafeMutableRawPointer?, count: Int32, capacity: Int32) throws(MediaError) -> Int32 {
        let out = scratch.pointer
        av_frame_unref(out)
        out.pointee.nb_samples = max(capacity, 1)
        out.pointee.format = format.rawValue
        out.pointee.sample_rate = Int32(sampleRate)
        try LibAV.check(av_channel_layout_copy(&out.pointee.ch_layout, &layout), "av_channel_layout_copy", "cannot set channel layout")
        try LibAV.check(av_frame_get_buffer(out, 0), "av_frame_get_buffer", "cannot allocate audio buffer")
        let converted = swr_convert(resampler, out.pointee.extended_data, max(capacity, 1),
                                    input?.assumingMemoryBound(to: UnsafePointer<UInt8>?.self), count)
        return try LibAV.check(converted, "swr_convert", "cannot resample audio")
    }

    private func write(_ count: Int32) throws(MediaError) {
        guard count > 0 else { return }
        let written = av_audio_fifo_write(fifo, UnsafeMutableRawPointer(scratch.pointer.pointee.extended_data)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self), count)
        try LibAV.check(written, "av_audio_fifo_write", "cannot buffer audio")
    }
}
