internal import CFFmpeg
import KerfCore

extension TrackInfo {
    /// Copies what Kerf needs from an `AVStream` into Swift values.
    init(stream: UnsafeMutablePointer<AVStream>, index: Int) {
        self.init(parameters: stream.pointee.codecpar, index: index, timeBase: Rational(stream.pointee.time_base))
        let parameters = stream.pointee.codecpar.pointee
        containerID = stream.pointee.id != 0 ? Int(stream.pointee.id) : nil
        let tags = Dictionary.tags(stream.pointee.metadata)
        if let language = tags["language"], language != "und", !language.isEmpty { self.language = language }
        isDefault = stream.pointee.disposition & AV_DISPOSITION_DEFAULT != 0
        frameCount = stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil
        if timeBase.numerator > 0 && timeBase.denominator > 0 {
            if stream.pointee.duration != LibAV.noPTS && stream.pointee.duration > 0 {
                duration = MediaTime(value: stream.pointee.duration, timeBase: timeBase)
            }
            if stream.pointee.start_time != LibAV.noPTS {
                startTime = MediaTime(value: stream.pointee.start_time, timeBase: timeBase)
            }
        }
        if mediaType == .video {
            frameRate = TrackInfo.valid(stream.pointee.avg_frame_rate) ?? TrackInfo.valid(stream.pointee.r_frame_rate)
            sampleAspectRatio = TrackInfo.valid(parameters.sample_aspect_ratio)
                ?? TrackInfo.valid(stream.pointee.sample_aspect_ratio)
        }
    }

    /// Describes a track from codec parameters alone (an encoder's output).
    public init(parameters: CodecParameters, index: Int, timeBase: Rational) {
        self.init(parameters: parameters.pointer, index: index, timeBase: timeBase)
    }

    init(parameters pointer: UnsafePointer<AVCodecParameters>, index: Int, timeBase: Rational) {
        let parameters = pointer.pointee
        self.init(index: index, mediaType: MediaType(parameters.codec_type),
                  codec: LibAV.string(avcodec_get_name(parameters.codec_id)) ?? "none",
                  timeBase: timeBase)
        codecTag = TrackInfo.fourCC(parameters.codec_tag)
        if parameters.profile >= 0 {
            profileID = Int(parameters.profile)
            profile = LibAV.string(avcodec_profile_name(parameters.codec_id, parameters.profile))
        }
        level = parameters.level > 0 ? Int(parameters.level) : nil
        if let data = parameters.extradata, parameters.extradata_size > 0 {
            extradata = Array(UnsafeBufferPointer(start: data, count: Int(parameters.extradata_size)))
        }
        codecString = CodecString.make(codec: codec, extradata: extradata, profile: profileID, level: level,
                                       tag: codecTag)
        bitRate = parameters.bit_rate > 0 ? Int(parameters.bit_rate) : nil
        switch mediaType {
        case .video:
            width = parameters.width > 0 ? Int(parameters.width) : nil
            height = parameters.height > 0 ? Int(parameters.height) : nil
            sampleAspectRatio = TrackInfo.valid(parameters.sample_aspect_ratio)
            if parameters.format >= 0 {
                pixelFormat = LibAV.string(av_get_pix_fmt_name(AVPixelFormat(rawValue: parameters.format)))
            }
            fieldOrder = FieldOrder(parameters.field_order)
            if parameters.color_trc != AVCOL_TRC_UNSPECIFIED {
                transferCharacteristics = LibAV.string(av_color_transfer_name(parameters.color_trc))
            }
        case .audio:
            sampleRate = parameters.sample_rate > 0 ? Int(parameters.sample_rate) : nil
            var layout = parameters.ch_layout
            channels = layout.nb_channels > 0 ? Int(layout.nb_channels) : nil
            if layout.nb_channels > 0 {
                var buffer = [CChar](repeating: 0, count: 128)
                if av_channel_layout_describe(&layout, &buffer, buffer.count) > 0 {
                    channelLayout = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
        default:
            break
        }
    }

    static func valid(_ value: AVRational) -> Rational? {
        value.num > 0 && value.den > 0 ? Rational(value) : nil
    }

    static func fourCC(_ tag: UInt32) -> String? {
        guard tag != 0 else { return nil }
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: tag >> (8 * $0)) }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension TrackInfo.FieldOrder {
    init?(_ order: AVFieldOrder) {
        switch order {
        case AV_FIELD_PROGRESSIVE: self = .progressive
        case AV_FIELD_TT: self = .topFieldFirst
        case AV_FIELD_BB: self = .bottomFieldFirst
        case AV_FIELD_TB: self = .topCodedFirstBottomDisplayedFirst
        case AV_FIELD_BT: self = .bottomCodedFirstTopDisplayedFirst
        default: return nil
        }
    }
}
