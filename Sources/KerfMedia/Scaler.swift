internal import CFFmpeg
import KerfCore

/// Converts pictures to another size and pixel format (libswscale).
///
/// The conversion context is created at the first picture and recreated only when the source's
/// size or format changes. Output frames get their buffers from libavutil's allocator and carry
/// the source's timestamps and properties.
public final class Scaler {
    /// The interpolation used when resizing.
    public enum Algorithm: Sendable {
        /// Bilinear: cheap, sharp enough for downscaling by less than 2×.
        case bilinear
        /// Bicubic: FFmpeg's default.
        case bicubic
        /// Area averaging: best for large downscaling ratios.
        case area

        var flags: Int32 {
            switch self {
            case .bilinear: return Int32(SWS_BILINEAR)
            case .bicubic: return Int32(SWS_BICUBIC)
            case .area: return Int32(SWS_AREA)
            }
        }
    }

    public let width: Int
    public let height: Int
    public let pixelFormatName: String
    public let algorithm: Algorithm
    /// Sample aspect ratio written on output pictures (`nil`: the source's).
    public let sampleAspectRatio: Rational?
    private let format: AVPixelFormat
    private var context: OpaquePointer?
    /// Reused picture buffers: a picture's memory goes back to the pool when its last
    /// reference (the encoder's) is released, so steady-state scaling allocates nothing.
    private let pool: OpaquePointer?
    private let pictureSize: Int32
    private static let alignment: Int32 = 64

    /// - Throws: `.invalidArgument` for an unknown pixel format or a non-positive size.
    public init(width: Int, height: Int, pixelFormat: String, algorithm: Algorithm = .bicubic,
                sampleAspectRatio: Rational? = nil) throws(MediaError) {
        let format = av_get_pix_fmt(pixelFormat)
        guard format != AV_PIX_FMT_NONE else { throw MediaError(.invalidArgument, "unknown pixel format \(pixelFormat)") }
        guard width > 0, height > 0 else { throw MediaError(.invalidArgument, "cannot scale to \(width)x\(height)") }
        self.width = width
        self.height = height
        self.pixelFormatName = pixelFormat
        self.algorithm = algorithm
        self.sampleAspectRatio = sampleAspectRatio
        self.format = format
        pictureSize = av_image_get_buffer_size(format, Int32(width), Int32(height), Self.alignment)
        guard pictureSize > 0, let pool = av_buffer_pool_init(Int(pictureSize) + 64, av_buffer_alloc) else {
            throw MediaError(.outOfMemory, "cannot allocate a picture pool", function: "av_buffer_pool_init")
        }
        self.pool = pool
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        // The pool itself is freed once the last picture taken from it is released.
        var p: OpaquePointer? = pool
        av_buffer_pool_uninit(&p)
        sws_freeContext(context)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// True when `frame` already has this scaler's size and pixel format (and square pixels
    /// when the scaler sets them): it can be used as it is.
    public func accepts(_ frame: Frame) -> Bool {
        let picture = frame.pointer.pointee
        guard picture.width == Int32(width), picture.height == Int32(height), picture.format == format.rawValue,
              picture.hw_frames_ctx == nil else { return false }
        guard let sampleAspectRatio else { return true }
        let sar = picture.sample_aspect_ratio
        // 0/1 (unknown) counts as square.
        return sar.num == 0 ? sampleAspectRatio.reduced == Rational(1, 1)
            : Rational(sar).reduced == sampleAspectRatio.reduced
    }

    /// Scales `source` into `target`, replacing the target's content.
    /// - Throws: `.invalidArgument` for a GPU or audio frame; the library's error otherwise.
    public func scale(_ source: Frame, into target: Frame) throws(MediaError) {
        let src = source.pointer
        guard src.pointee.hw_frames_ctx == nil else {
            throw MediaError(.invalidArgument, "cannot scale a GPU picture in software: download it first")
        }
        guard src.pointee.width > 0, src.pointee.height > 0, src.pointee.format >= 0 else {
            throw MediaError(.invalidArgument, "cannot scale a frame without a picture")
        }
        context = sws_getCachedContext(context, src.pointee.width, src.pointee.height,
                                       AVPixelFormat(rawValue: src.pointee.format), Int32(width), Int32(height),
                                       format, algorithm.flags, nil, nil, nil)
        guard context != nil else {
            throw MediaError(.invalidArgument, "cannot convert \(source.formatName ?? "?") \(source.width)x\(source.height) to \(pixelFormatName) \(width)x\(height)",
                             function: "sws_getCachedContext")
        }
        let dst = target.pointer
        av_frame_unref(dst)
        dst.pointee.width = Int32(width)
        dst.pointee.height = Int32(height)
        dst.pointee.format = format.rawValue
        guard let buffer = av_buffer_pool_get(pool) else {
            throw MediaError(.outOfMemory, "cannot allocate picture", function: "av_buffer_pool_get")
        }
        dst.pointee.buf.0 = buffer
        // The frame lives on the heap: pointers to its fields stay valid.
        let frame = UnsafeMutableRawPointer(dst)
        let planes = (frame + MemoryLayout<AVFrame>.offset(of: \AVFrame.data)!).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self)
        let strides = (frame + MemoryLayout<AVFrame>.offset(of: \AVFrame.linesize)!).assumingMemoryBound(to: Int32.self)
        try LibAV.check(av_image_fill_arrays(planes, strides, buffer.pointee.data, format, Int32(width), Int32(height), Self.alignment),
                        "av_image_fill_arrays", "cannot lay out picture")
        dst.pointee.extended_data = planes
        try LibAV.check(sws_scale_frame(context, dst, src), "sws_scale_frame", "cannot scale picture")
        try LibAV.check(av_frame_copy_props(dst, src), "av_frame_copy_props", "cannot copy picture properties")
        if let sampleAspectRatio { dst.pointee.sample_aspect_ratio = AVRational(sampleAspectRatio) }
    }
}
