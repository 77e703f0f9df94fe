internal import CFFmpeg
import KerfCore

/// Codec parameters for a stream that arrives without a container libavformat can read (an
/// Enhanced RTMP publisher's HEVC or AV1): the codec and its setup data (hvcC, av1C,
/// AudioSpecificConfig) are all there is. Opening the codec's decoder on the setup data fills
/// in what a muxer and a manifest need: dimensions, pixel format, profile, level, colour, or
/// sample rate and channels.
public enum ElementaryStream {
    /// - Parameters:
    ///   - codec: libavcodec's codec name ("hevc", "av1", "aac").
    ///   - extradata: the codec configuration record.
    /// - Throws: `MediaError` when there is no such codec or decoder, or the decoder refuses
    ///   the setup data.
    public static func parameters(codec: String, extradata: [UInt8]) throws(MediaError) -> CodecParameters {
        guard let descriptor = avcodec_descriptor_get_by_name(codec) else {
            throw MediaError(.codecUnavailable, "no codec named \(codec)")
        }
        guard let decoder = avcodec_find_decoder(descriptor.pointee.id) else {
            throw MediaError(.codecUnavailable, "no \(codec) decoder in this FFmpeg build to read the stream's setup data")
        }
        var context = avcodec_alloc_context3(decoder)
        guard let codecContext = context else {
            throw MediaError(.outOfMemory, "cannot allocate a codec context", function: "avcodec_alloc_context3")
        }
        defer { avcodec_free_context(&context) }
        try LibAV.setExtradata(&codecContext.pointee.extradata, size: &codecContext.pointee.extradata_size, to: extradata)
        // One thread: nothing is decoded, only the setup data read.
        codecContext.pointee.thread_count = 1
        try LibAV.check(avcodec_open2(codecContext, decoder, nil), "avcodec_open2", "the \(codec) setup data cannot be read")
        guard let parameters = avcodec_parameters_alloc() else {
            throw MediaError(.outOfMemory, "cannot allocate codec parameters", function: "avcodec_parameters_alloc")
        }
        var owned: UnsafeMutablePointer<AVCodecParameters>? = parameters
        defer { avcodec_parameters_free(&owned) }
        try LibAV.check(avcodec_parameters_from_context(parameters, codecContext), "avcodec_parameters_from_context",
                        "cannot copy the \(codec) parameters")
        if parameters.pointee.codec_type == AVMEDIA_TYPE_VIDEO, parameters.pointee.width <= 0 || parameters.pointee.height <= 0 {
            throw MediaError(.invalidData, "the \(codec) configuration record gives no picture size")
        }
        // AAC's decoder learns the rate and channels at the first frame: from the
        // AudioSpecificConfig here.
        if descriptor.pointee.id == AV_CODEC_ID_AAC, parameters.pointee.sample_rate <= 0,
           let config = audioSpecificConfig(extradata) {
            parameters.pointee.sample_rate = Int32(config.sampleRate)
            if config.channels > 0 {
                av_channel_layout_uninit(&parameters.pointee.ch_layout)
                av_channel_layout_default(&parameters.pointee.ch_layout, Int32(config.channels))
            }
        }
        if parameters.pointee.codec_type == AVMEDIA_TYPE_AUDIO, parameters.pointee.sample_rate <= 0 {
            throw MediaError(.invalidData, "the \(codec) configuration record gives no sample rate")
        }
        // The configuration record as it came (the decoder may have rewritten its own copy).
        try LibAV.setExtradata(&parameters.pointee.extradata, size: &parameters.pointee.extradata_size, to: extradata)
        return try CodecParameters(copying: parameters)
    }

    /// Sampling rate and channel count of an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1);
    /// channels 0 when the configuration is in a program config element. Nil when too short.
    public static func audioSpecificConfig(_ bytes: [UInt8]) -> (sampleRate: Int, channels: Int)? {
        var position = 0
        func bits(_ count: Int) -> Int? {
            guard position + count <= bytes.count * 8 else { return nil }
            var value = 0
            for _ in 0..<count {
                value = value << 1 | Int(bytes[position / 8] >> (7 - UInt8(position % 8)) & 1)
                position += 1
            }
            return value
        }
        guard var objectType = bits(5) else { return nil }
        if objectType == 31 { guard let escaped = bits(6) else { return nil }; objectType = 32 + escaped }
        guard let index = bits(4) else { return nil }
        let rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]
        let rate: Int
        if index == 15 { guard let explicit = bits(24) else { return nil }; rate = explicit } else {
            guard index < rates.count else { return nil }
            rate = rates[index]
        }
        guard let channels = bits(4), rate > 0 else { return nil }
        return (rate, channels == 7 ? 8 : channels)
    }
}
