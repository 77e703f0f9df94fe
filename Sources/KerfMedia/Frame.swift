internal import CFFmpeg
import KerfCore

/// One decoded picture or block of audio samples (FFmpeg `AVFrame`), owned by this object and
/// freed in `deinit`.
///
/// Frame data is refcounted: `makeReference()` gives another `Frame` over the same buffers, so
/// one decoded picture can feed several encoders without copying. Use a `FramePool` to reuse
/// `Frame` objects in a loop.
public final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    public init() {
        guard let pointer = av_frame_alloc() else {
            fatalError("av_frame_alloc: out of memory")
        }
        self.pointer = pointer
        LiveObjects.frameCount.add(1, ordering: .relaxed)
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
        LiveObjects.frameCount.subtract(1, ordering: .relaxed)
    }

    /// A new frame referencing the same data buffers (`av_frame_ref`).
    public func makeReference() throws(MediaError) -> Frame {
        let copy = Frame()
        try LibAV.check(av_frame_ref(copy.pointer, pointer), "av_frame_ref", "cannot reference frame")
        return copy
    }

    /// Makes `target` reference this frame's data buffers (its previous content is released).
    public func reference(into target: Frame) throws(MediaError) {
        av_frame_unref(target.pointer)
        try LibAV.check(av_frame_ref(target.pointer, pointer), "av_frame_ref", "cannot reference frame")
    }

    /// Releases the data buffers and resets every field; the object stays usable.
    public func unref() { av_frame_unref(pointer) }

    /// True when the frame holds no data.
    public var isEmpty: Bool { pointer.pointee.buf.0 == nil && pointer.pointee.data.0 == nil }

    /// Width and height in pixels (video), 0 for audio.
    public var width: Int { Int(pointer.pointee.width) }
    public var height: Int { Int(pointer.pointee.height) }

    /// Pixel format name (video) or sample format name (audio).
    public var formatName: String? {
        let format = pointer.pointee.format
        guard format >= 0 else { return nil }
        if pointer.pointee.nb_samples > 0 {
            return LibAV.string(av_get_sample_fmt_name(AVSampleFormat(rawValue: format)))
        }
        return LibAV.string(av_get_pix_fmt_name(AVPixelFormat(rawValue: format)))
    }

    /// Audio samples per channel in this frame (0 for video).
    public var sampleCount: Int { Int(pointer.pointee.nb_samples) }

    /// Presentation timestamp in ticks of the time base of the codec that produced the frame.
    public var ptsTicks: Int64? {
        get { pointer.pointee.pts == LibAV.noPTS ? nil : pointer.pointee.pts }
        set { pointer.pointee.pts = newValue ?? LibAV.noPTS }
    }

    /// Timestamp the decoder estimates as best for presentation (`best_effort_timestamp`).
    public var bestEffortTicks: Int64? {
        pointer.pointee.best_effort_timestamp == LibAV.noPTS ? nil : pointer.pointee.best_effort_timestamp
    }

    /// True when this is an intra-coded picture.
    public var isKeyframe: Bool { pointer.pointee.key_frame != 0 }

    /// Asks an encoder to code this picture as a keyframe (or leaves the choice to it).
    public var forcesKeyframe: Bool {
        get { pointer.pointee.pict_type == AV_PICTURE_TYPE_I }
        set { pointer.pointee.pict_type = newValue ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE }
    }

    /// Pixel aspect ratio of a picture, `nil` when unknown.
    public var sampleAspectRatio: Rational? {
        get {
            let value = pointer.pointee.sample_aspect_ratio
            return value.num > 0 && value.den > 0 ? Rational(value) : nil
        }
        set { pointer.pointee.sample_aspect_ratio = newValue.map { AVRational($0) } ?? AVRational(num: 0, den: 1) }
    }

    /// True for a picture made of two interlaced fields.
    public var isInterlaced: Bool { pointer.pointee.interlaced_frame != 0 }

    /// True when the frame's data lives on a GPU (`hw_frames_ctx` set).
    public var isHardwareFrame: Bool { pointer.pointee.hw_frames_ctx != nil }
}
