internal import CFFmpeg
import KerfCore

/// A libavfilter chain for one video stream: pictures in, filtered pictures out
/// (`buffer → <description> → buffersink`), e.g. `bwdif=mode=send_frame` to deinterlace.
///
/// Send/receive like a codec: `send(_:)` a picture, `receive(into:)` until `.tryAgain`; at the
/// end `drain()` and `receive(into:)` until `.endOfStream`.
public final class VideoFilter {
    private let library: FilterLibrary
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var source: UnsafeMutablePointer<AVFilterContext>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?
    public let description: String
    /// The time base of the pictures sent.
    public let inputTimeBase: Rational

    /// - Parameters:
    ///   - description: the filter chain in libavfilter's syntax (one input, one output).
    ///   - width, height, pixelFormat, timeBase: the pictures that will be sent.
    /// - Throws: `.codecUnavailable` without libavfilter; `.invalidArgument` for a chain that
    ///   does not parse or configure.
    public init(description: String, width: Int, height: Int, pixelFormat: String, timeBase: Rational,
                sampleAspectRatio: Rational? = nil) throws(MediaError) {
        MediaLibrary.initialize()
        library = try FilterLibrary.shared()
        self.description = description
        self.inputTimeBase = timeBase
        guard let graph = library.graphAlloc() else {
            throw MediaError(.outOfMemory, "cannot allocate a filter graph", function: "avfilter_graph_alloc")
        }
        self.graph = graph
        LiveObjects.contextCount.add(1, ordering: .relaxed)
        let sar = sampleAspectRatio ?? Rational(1, 1)
        let arguments = "video_size=\(width)x\(height):pix_fmt=\(av_get_pix_fmt(pixelFormat).rawValue):time_base=\(timeBase.numerator)/\(timeBase.denominator):pixel_aspect=\(sar.numerator)/\(sar.denominator)"
        try check(library.createFilter(&source, library.getByName("buffer"), "in", arguments, nil, graph),
                  "avfilter_graph_create_filter", "cannot create the filter input")
        try check(library.createFilter(&sink, library.getByName("buffersink"), "out", nil, nil, graph),
                  "avfilter_graph_create_filter", "cannot create the filter output")
        var inputs: UnsafeMutablePointer<AVFilterInOut>?
        var outputs: UnsafeMutablePointer<AVFilterInOut>?
        defer {
            library.inOutFree(&inputs)
            library.inOutFree(&outputs)
        }
        try check(library.parse(graph, description, &inputs, &outputs), "avfilter_graph_parse2", "cannot parse filter '\(description)'")
        guard let input = inputs, input.pointee.next == nil, let output = outputs, output.pointee.next == nil else {
            throw MediaError(.invalidArgument, "filter '\(description)' must have one input and one output")
        }
        try check(library.link(source, 0, input.pointee.filter_ctx, UInt32(input.pointee.pad_idx)), "avfilter_link", "cannot link filter input")
        try check(library.link(output.pointee.filter_ctx, UInt32(output.pointee.pad_idx), sink, 0), "avfilter_link", "cannot link filter output")
        try check(library.configure(graph, nil), "avfilter_graph_config", "cannot configure filter '\(description)'")
    }

    deinit {
        library.graphFree(&graph)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    private func check(_ result: Int32, _ function: String, _ message: String) throws(MediaError) {
        if result < 0 {
            var error = LibAV.error(result, function, message)
            if error.code == .library || error.code == .io { error.code = .invalidArgument }
            throw error
        }
    }

    /// Sends one picture (the filter keeps its own reference).
    public func send(_ frame: Frame) throws(MediaError) {
        try LibAV.check(library.addFrame(source, frame.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)),
                        "av_buffersrc_add_frame_flags", "cannot filter picture")
    }

    /// Signals the end of the pictures.
    public func drain() throws(MediaError) {
        try LibAV.check(library.addFrame(source, nil, 0), "av_buffersrc_add_frame_flags", "cannot drain filter")
    }

    /// Receives the next filtered picture into `frame` (replacing its content), its timestamp
    /// in the input's time base (filters such as bwdif work in a finer one).
    public func receive(into frame: Frame) throws(MediaError) -> ReceiveResult {
        av_frame_unref(frame.pointer)
        let result = library.getFrame(sink, frame.pointer)
        if result == LibAV.eagain { return .tryAgain }
        if result == LibAV.eof { return .endOfStream }
        try LibAV.check(result, "av_buffersink_get_frame", "cannot filter picture")
        let outputBase = library.getTimeBase(sink)
        if frame.pointer.pointee.pts != LibAV.noPTS {
            frame.pointer.pointee.pts = av_rescale_q(frame.pointer.pointee.pts, outputBase, AVRational(inputTimeBase))
        }
        return .output
    }
}
