internal import CFFmpeg
import KerfCore

/// An immutable, owned copy of a stream's codec parameters (`AVCodecParameters`).
///
/// `TrackInfo` describes a track in Swift values; `CodecParameters` carries everything a
/// decoder or muxer needs to reproduce the stream exactly. It is copied at open time, never
/// mutated afterwards, and can therefore be shared across tasks.
public final class CodecParameters: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<AVCodecParameters>

    /// The media type and codec, for matching with `TrackInfo`.
    public let mediaType: TrackInfo.MediaType
    public let codec: String

    init(copying source: UnsafePointer<AVCodecParameters>) throws(MediaError) {
        guard let pointer = avcodec_parameters_alloc() else {
            throw MediaError(.outOfMemory, "cannot allocate codec parameters", function: "avcodec_parameters_alloc")
        }
        let result = avcodec_parameters_copy(pointer, source)
        if result < 0 {
            var p: UnsafeMutablePointer<AVCodecParameters>? = pointer
            avcodec_parameters_free(&p)
            throw LibAV.error(result, "avcodec_parameters_copy", "cannot copy codec parameters")
        }
        self.pointer = pointer
        self.mediaType = TrackInfo.MediaType(pointer.pointee.codec_type)
        self.codec = LibAV.string(avcodec_get_name(pointer.pointee.codec_id)) ?? "none"
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    /// The parameters of a timed ID3 metadata stream: what a muxer needs to carry ID3 tags
    /// (MPEG-TS: stream type 0x15 with the "ID3 " metadata descriptors).
    public static func timedID3() throws(MediaError) -> CodecParameters {
        guard let scratch = avcodec_parameters_alloc() else {
            throw MediaError(.outOfMemory, "cannot allocate codec parameters", function: "avcodec_parameters_alloc")
        }
        defer {
            var p: UnsafeMutablePointer<AVCodecParameters>? = scratch
            avcodec_parameters_free(&p)
        }
        scratch.pointee.codec_type = AVMEDIA_TYPE_DATA
        scratch.pointee.codec_id = AV_CODEC_ID_TIMED_ID3
        return try CodecParameters(copying: scratch)
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecParameters>? = pointer
        avcodec_parameters_free(&p)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// A copy with different codec-specific setup data (e.g. an AudioSpecificConfig built from
    /// an ADTS header when the container carried none).
    public func replacingExtradata(_ bytes: [UInt8]) throws(MediaError) -> CodecParameters {
        let copy = try CodecParameters(copying: pointer)
        try LibAV.setExtradata(&copy.pointer.pointee.extradata, size: &copy.pointer.pointee.extradata_size, to: bytes)
        return copy
    }

    /// Codec-specific setup data (avcC, hvcC, AudioSpecificConfig…).
    public var extradata: [UInt8] {
        guard let data = pointer.pointee.extradata, pointer.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(pointer.pointee.extradata_size)))
    }
}

extension TrackInfo.MediaType {
    init(_ type: AVMediaType) {
        switch type {
        case AVMEDIA_TYPE_VIDEO: self = .video
        case AVMEDIA_TYPE_AUDIO: self = .audio
        case AVMEDIA_TYPE_SUBTITLE: self = .subtitle
        case AVMEDIA_TYPE_DATA: self = .data
        case AVMEDIA_TYPE_ATTACHMENT: self = .attachment
        default: self = .unknown
        }
    }
}
