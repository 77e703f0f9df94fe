internal import CFFmpeg
import KerfCore

/// A libavformat muxer writing through AVIOContext write callbacks into a Swift `ByteSink`
/// (`AVFormatContext` for output).
///
/// Call order: `addStream` for every stream, `writeHeader(options:)` once, `write(_:)` for each
/// packet, `finish()` once. Muxer options (e.g. `movflags=+frag_keyframe+empty_moov+default_base_moof`)
/// go to `writeHeader`.
public final class MediaOutput {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let bridge: IOBridge
    public let sink: ByteSink
    /// Name used in errors (the file being written).
    public let name: String
    private var headerWritten = false
    private var finished = false

    /// - Parameters:
    ///   - format: libavformat muxer name ("mp4", "matroska", "mpegts", "webvtt").
    ///   - sink: where bytes go.
    ///   - name: how errors name the output.
    /// - Throws: `.invalidArgument` for an unknown muxer.
    public init(format: String, sink: ByteSink, name: String) throws(MediaError) {
        MediaLibrary.initialize()
        self.sink = sink
        self.name = name
        self.bridge = try IOBridge(sink: sink)
        var context: UnsafeMutablePointer<AVFormatContext>?
        let result = avformat_alloc_output_context2(&context, nil, format, nil)
        guard result >= 0, let context else {
            throw MediaError(.invalidArgument, "unknown output format \(format)", function: "avformat_alloc_output_context2",
                             averror: result, libraryMessage: LibAV.describe(result), file: name)
        }
        context.pointee.pb = bridge.context
        context.pointee.flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT
        self.context = context
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    /// Writes to a file at `path` (created or truncated).
    public convenience init(format: String, path: String) throws(MediaError) {
        try self.init(format: format, sink: try FileByteSink(path: path), name: path)
    }

    deinit {
        if let context {
            context.pointee.pb = nil
            avformat_free_context(context)
        }
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// Adds a stream carrying `parameters`.
    /// - Parameters:
    ///   - timeBase: the time base packets will arrive in (a hint: the muxer may pick its own,
    ///     readable from `timeBase(ofStream:)` after `writeHeader`).
    ///   - language: ISO 639-2 code written to the stream's metadata.
    /// - Returns: the new stream's index.
    @discardableResult
    public func addStream(parameters: CodecParameters, timeBase: Rational, language: String? = nil,
                          isDefault: Bool = false) throws(MediaError) -> Int {
        guard !headerWritten else { throw MediaError(.wrongState, "cannot add a stream after the header", file: name) }
        guard let stream = avformat_new_stream(context, nil) else {
            throw MediaError(.outOfMemory, "cannot add stream", function: "avformat_new_stream", file: name)
        }
        try LibAV.check(avcodec_parameters_copy(stream.pointee.codecpar, parameters.pointer),
                        "avcodec_parameters_copy", "cannot configure stream", file: name)
        stream.pointee.codecpar.pointee.codec_tag = compatibleTag(stream.pointee.codecpar.pointee)
        stream.pointee.time_base = AVRational(timeBase)
        if let language { av_dict_set(&stream.pointee.metadata, "language", language, 0) }
        if isDefault { stream.pointee.disposition |= AV_DISPOSITION_DEFAULT }
        return Int(stream.pointee.index)
    }

    /// Keeps the input's codec tag when this muxer accepts it for the codec, as ffmpeg does;
    /// otherwise 0 so the muxer writes its own.
    private func compatibleTag(_ parameters: AVCodecParameters) -> UInt32 {
        guard let table = context?.pointee.oformat.pointee.codec_tag else { return parameters.codec_tag }
        var ownTag: UInt32 = 0
        if av_codec_get_id(table, parameters.codec_tag) == parameters.codec_id
            || av_codec_get_tag2(table, parameters.codec_id, &ownTag) == 0 {
            return parameters.codec_tag
        }
        return 0
    }

    /// Writes the container header. `options` are the muxer's private options.
    /// - Throws: `.invalidArgument` for options the muxer does not take.
    public func writeHeader(options: [String: String] = [:]) throws(MediaError) {
        guard !headerWritten else { throw MediaError(.wrongState, "header already written", file: name) }
        var dictionary = Dictionary(options)
        defer { av_dict_free(&dictionary.pointer) }
        let result = avformat_write_header(context, &dictionary.pointer)
        try check(result, "avformat_write_header", "cannot write header")
        let unused = Dictionary.keys(dictionary.pointer)
        if !unused.isEmpty {
            throw MediaError(.invalidArgument, "muxer does not take option(s) \(unused.joined(separator: ", "))", file: name)
        }
        headerWritten = true
    }

    /// The time base the muxer chose for stream `index` (valid after `writeHeader`).
    public func timeBase(ofStream index: Int) -> Rational {
        Rational(context!.pointee.streams[index]!.pointee.time_base)
    }

    /// Writes one packet to stream `streamIndex`, rescaling its timestamps from the packet's
    /// time base. The packet's payload is handed to the muxer: the packet is empty afterwards.
    /// - Parameter interleaved: buffer and interleave by dts (`av_interleaved_write_frame`);
    ///   `false` writes immediately (`av_write_frame`) and expects the caller to interleave.
    public func write(_ packet: Packet, toStream streamIndex: Int, interleaved: Bool = true) throws(MediaError) {
        guard headerWritten, !finished else {
            throw MediaError(.wrongState, "cannot write a packet \(finished ? "after finish" : "before the header")", file: name)
        }
        packet.streamIndex = streamIndex
        packet.rescale(to: timeBase(ofStream: streamIndex))
        let result = interleaved ? av_interleaved_write_frame(context, packet.pointer) : av_write_frame(context, packet.pointer)
        if !interleaved { av_packet_unref(packet.pointer) }
        try check(result, interleaved ? "av_interleaved_write_frame" : "av_write_frame", "cannot write packet", stream: streamIndex)
    }

    /// Flushes fragments buffered by the muxer (fragmented MP4: ends the current fragment).
    public func flushFragment() throws(MediaError) {
        let result = av_write_frame(context, nil)
        try check(result, "av_write_frame", "cannot flush")
        avio_flush(bridge.context)
    }

    /// Writes the trailer and flushes everything to the sink. No packets may follow.
    public func finish() throws(MediaError) {
        guard headerWritten, !finished else { throw MediaError(.wrongState, "output is not open", file: name) }
        finished = true
        try check(av_write_trailer(context), "av_write_trailer", "cannot finish")
        avio_flush(bridge.context)
        if let failure = bridge.failure {
            throw MediaError(.io, "cannot write", libraryMessage: "\(failure)", file: name)
        }
        do { try sink.flush() } catch {
            throw MediaError(.io, "cannot write", libraryMessage: "\(error)", file: name)
        }
    }

    private func check(_ result: Int32, _ function: String, _ message: String, stream: Int? = nil) throws(MediaError) {
        guard result < 0 else { return }
        if let failure = bridge.failure {
            throw MediaError(.io, message, function: function, libraryMessage: "\(failure)", file: name, stream: stream)
        }
        throw LibAV.error(result, function, message, file: name, stream: stream)
    }
}
