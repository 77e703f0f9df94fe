internal import CFFmpeg

/// The single place through which libav return codes pass. Negative results become a
/// `MediaError`; `EAGAIN` and `AVERROR_EOF` are only ever interpreted by the callers that expect
/// them (send/receive/read), which test for them before calling `check`.
enum LibAV {
    static let eagain = kerf_averror_eagain()
    static let eof = kerf_averror_eof()
    static let noPTS = kerf_av_nopts_value()

    /// Replaces `extradata`/`size` (a codec context's or parameters' setup data) with a
    /// zero-padded copy of `bytes` that libavcodec owns; empty `bytes` leave none.
    static func setExtradata(_ extradata: inout UnsafeMutablePointer<UInt8>?, size: inout Int32,
                             to bytes: [UInt8]) throws(MediaError) {
        av_freep(&extradata)
        size = 0
        guard !bytes.isEmpty else { return }
        guard let buffer = av_mallocz(bytes.count + Int(AV_INPUT_BUFFER_PADDING_SIZE))?.assumingMemoryBound(to: UInt8.self) else {
            throw MediaError(.outOfMemory, "cannot allocate extradata", function: "av_mallocz")
        }
        bytes.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: bytes.count) }
        extradata = buffer
        size = Int32(bytes.count)
    }

    /// Returns `result` when it is not negative; otherwise throws a `MediaError` naming
    /// `function`, with the code classified from the AVERROR value.
    @discardableResult
    static func check(_ result: Int32, _ function: String, _ message: @autoclosure () -> String,
                      file: String? = nil, stream: Int? = nil) throws(MediaError) -> Int32 {
        guard result < 0 else { return result }
        throw error(result, function, message(), file: file, stream: stream)
    }

    /// Builds the error for a negative AVERROR value.
    static func error(_ result: Int32, _ function: String, _ message: String,
                      file: String? = nil, stream: Int? = nil) -> MediaError {
        MediaError(classify(result), message, function: function, averror: result,
                   libraryMessage: describe(result), file: file, stream: stream)
    }

    /// `error`, classified as a GPU device or its pictures not being usable on this machine.
    static func hardwareError(_ result: Int32, _ function: String, _ message: String) -> MediaError {
        var error = error(result, function, message)
        error.code = .hardwareUnavailable
        return error
    }

    static func classify(_ result: Int32) -> MediaError.Code {
        switch result {
        case kerf_averror_invaliddata(), kerf_averror_eof(): return .invalidData
        case kerf_averror_enomem(): return .outOfMemory
        case kerf_averror_einval(): return .invalidArgument
        case kerf_averror_eio(): return .io
        case kerf_averror_decoder_not_found(), kerf_averror_encoder_not_found(): return .codecUnavailable
        default:
            // POSIX errors from file opening (ENOENT, EACCES…) are I/O problems.
            return result > -4096 ? .io : .library
        }
    }

    /// FFmpeg's message for an AVERROR code.
    static func describe(_ result: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        if av_strerror(result, &buffer, buffer.count) < 0 {
            return "error \(result)"
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A C string as a Swift string, or `nil` for NULL.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
