internal import CFFmpeg
import KerfCore

/// A pool of pictures in a GPU's memory (`AVHWFramesContext`), into which software pictures
/// are uploaded for encoders that only take GPU frames (VAAPI).
public final class HardwareFrames: @unchecked Sendable {
    public let device: HardwareDevice
    public let width: Int
    public let height: Int
    /// The pixel format of the pictures as uploaded ("nv12").
    public let softwareFormat: String
    /// Reference to the frames context; immutable after creation.
    let reference: UnsafeMutablePointer<AVBufferRef>

    /// - Throws: `.hardwareUnavailable` when the device cannot allocate such pictures.
    public init(device: HardwareDevice, width: Int, height: Int, softwareFormat: String = "nv12",
                poolSize: Int = 16) throws(MediaError) {
        self.device = device
        self.width = width
        self.height = height
        self.softwareFormat = softwareFormat
        let format = av_get_pix_fmt(softwareFormat)
        guard format != AV_PIX_FMT_NONE else { throw MediaError(.invalidArgument, "unknown pixel format \(softwareFormat)") }
        guard let reference = av_hwframe_ctx_alloc(device.reference) else {
            throw MediaError(.outOfMemory, "cannot allocate GPU frames", function: "av_hwframe_ctx_alloc")
        }
        let frames = UnsafeMutableRawPointer(reference.pointee.data!).assumingMemoryBound(to: AVHWFramesContext.self)
        frames.pointee.format = device.kind.pixelFormat
        frames.pointee.sw_format = format
        frames.pointee.width = Int32(width)
        frames.pointee.height = Int32(height)
        frames.pointee.initial_pool_size = Int32(poolSize)
        let result = av_hwframe_ctx_init(reference)
        if result < 0 {
            var p: UnsafeMutablePointer<AVBufferRef>? = reference
            av_buffer_unref(&p)
            throw LibAV.hardwareError(result, "av_hwframe_ctx_init",
                                      "cannot create \(width)x\(height) \(softwareFormat) pictures on the \(device.kind.rawValue) device")
        }
        self.reference = reference
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        var p: UnsafeMutablePointer<AVBufferRef>? = reference
        av_buffer_unref(&p)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// Copies a software picture into a GPU picture of this pool (`target` is replaced).
    public func upload(_ source: Frame, into target: Frame) throws(MediaError) {
        av_frame_unref(target.pointer)
        try LibAV.check(av_hwframe_get_buffer(reference, target.pointer, 0), "av_hwframe_get_buffer", "cannot get a GPU picture")
        try LibAV.check(av_hwframe_transfer_data(target.pointer, source.pointer, 0), "av_hwframe_transfer_data",
                        "cannot upload picture to the GPU")
        try LibAV.check(av_frame_copy_props(target.pointer, source.pointer), "av_frame_copy_props", "cannot copy picture properties")
    }
}

extension Frame {
    /// Copies a GPU picture into system memory (`target` is replaced); its format is the GPU
    /// pool's software format (usually nv12).
    public func download(into target: Frame) throws(MediaError) {
        av_frame_unref(target.pointer)
        try LibAV.check(av_hwframe_transfer_data(target.pointer, pointer, 0), "av_hwframe_transfer_data",
                        "cannot download picture from the GPU")
        try LibAV.check(av_frame_copy_props(target.pointer, pointer), "av_frame_copy_props", "cannot copy picture properties")
    }
}

extension HardwareDevice.Kind {
    /// The pixel format of pictures living on such a device.
    var pixelFormat: AVPixelFormat {
        switch self {
        case .cuda: return AV_PIX_FMT_CUDA
        case .vaapi: return AV_PIX_FMT_VAAPI
        case .qsv: return AV_PIX_FMT_QSV
        }
    }
}
