internal import CFFmpeg
import KerfCore

/// A demuxer over a file, URL or custom byte source (`AVFormatContext` for input).
///
/// The initialiser opens the input and reads stream information; it either returns a complete
/// object with `tracks` and `container` filled in, or throws. Packets are read one at a time
/// into a caller-owned, reused `Packet`.
public final class MediaInput {
    private(set) var context: UnsafeMutablePointer<AVFormatContext>?
    private let bridge: IOBridge?
    /// The path or URL given at open time (or the name of the custom source).
    public let url: String
    public let tracks: [TrackInfo]
    public let container: ContainerInfo
    private let parameters: [CodecParameters]
    private let timeBases: [AVRational]
    /// Kept alive as long as the format context polls it.
    private let interrupt: InterruptFlag?
    /// Bytes of the packets read so far.
    public private(set) var bytesRead = 0

    /// The result of reading one packet.
    public enum ReadResult: Sendable, Equatable {
        case packet
        case endOfStream
    }

    /// Opens a path or a libavformat URL (`file:`, `http(s)://`, `udp://`, `srt://`, `rtmp://`…).
    /// - Parameters:
    ///   - options: demuxer/protocol options (`rw_timeout`, `reconnect`, …).
    ///   - formatName: forces a demuxer instead of probing ("mpegts", "flv").
    ///   - interrupt: a flag that aborts opening and reading when raised (live inputs).
    /// - Throws: `MediaError` with `.openFailed`, `.invalidData` or `.io` when the input cannot
    ///   be opened or has no readable streams.
    public init(url: String, options: [String: String] = [:], formatName: String? = nil,
                interrupt: InterruptFlag? = nil) throws(MediaError) {
        self.url = url
        self.bridge = nil
        self.interrupt = interrupt
        MediaLibrary.initialize()
        let opened = try MediaInput.open(url: url, bridge: nil, options: options, formatName: formatName,
                                         interrupt: interrupt)
        self.context = opened
        (tracks, container, parameters, timeBases) = try MediaInput.describe(opened, url: url)
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    /// Opens a custom byte source read through AVIOContext callbacks.
    /// - Parameter name: how errors and `url` name the input.
    public init(source: ByteSource, name: String, options: [String: String] = [:],
                formatName: String? = nil) throws(MediaError) {
        self.url = name
        self.interrupt = nil
        MediaLibrary.initialize()
        let bridge = try IOBridge(source: source)
        self.bridge = bridge
        let opened: UnsafeMutablePointer<AVFormatContext>
        do {
            opened = try MediaInput.open(url: name, bridge: bridge, options: options, formatName: formatName)
        } catch {
            if let failure = bridge.failure {
                throw MediaError(.io, "cannot read", libraryMessage: "\(failure)", file: name)
            }
            throw error
        }
        self.context = opened
        (tracks, container, parameters, timeBases) = try MediaInput.describe(opened, url: name)
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        avformat_close_input(&context)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    private static func open(url: String, bridge: IOBridge?, options: [String: String],
                             formatName: String?, interrupt: InterruptFlag? = nil) throws(MediaError) -> UnsafeMutablePointer<AVFormatContext> {
        var context: UnsafeMutablePointer<AVFormatContext>? = avformat_alloc_context()
        guard let allocated = context else {
            throw MediaError(.outOfMemory, "cannot allocate format context", function: "avformat_alloc_context", file: url)
        }
        if let bridge {
            allocated.pointee.pb = bridge.context
            allocated.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        }
        if let interrupt { allocated.pointee.interrupt_callback = interrupt.callback }
        var format: UnsafePointer<AVInputFormat>?
        if let formatName {
            format = av_find_input_format(formatName)
            if format == nil {
                avformat_free_context(allocated)
                throw MediaError(.invalidArgument, "unknown input format \(formatName)", function: "av_find_input_format", file: url)
            }
        }
        var dictionary = Dictionary(options)
        defer { av_dict_free(&dictionary.pointer) }
        // avformat_open_input frees the context on failure and sets it to NULL.
        let result = avformat_open_input(&context, bridge == nil ? url : nil, format, &dictionary.pointer)
        guard result >= 0, let context else {
            throw openError(result, url: url)
        }
        let info = avformat_find_stream_info(context, nil)
        if info < 0 {
            var closing: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&closing)
            throw LibAV.error(info, "avformat_find_stream_info", "cannot read stream information", file: url)
        }
        if context.pointee.nb_streams == 0 {
            var closing: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&closing)
            throw MediaError(.invalidData, "no streams found", file: url)
        }
        return context
    }

    private static func openError(_ result: Int32, url: String) -> MediaError {
        var error = LibAV.error(result, "avformat_open_input", "cannot open", file: url)
        if error.code == .invalidData {
            error.message = "not a recognised media file, or truncated"
        }
        if error.code == .library { error.code = .openFailed }
        return error
    }

    private static func describe(_ context: UnsafeMutablePointer<AVFormatContext>, url: String) throws(MediaError)
        -> ([TrackInfo], ContainerInfo, [CodecParameters], [AVRational]) {
        var tracks: [TrackInfo] = []
        var parameters: [CodecParameters] = []
        var timeBases: [AVRational] = []
        for index in 0..<Int(context.pointee.nb_streams) {
            let stream = context.pointee.streams[index]!
            tracks.append(TrackInfo(stream: stream, index: index))
            parameters.append(try CodecParameters(copying: stream.pointee.codecpar))
            timeBases.append(stream.pointee.time_base)
        }
        let microseconds = Rational(1, Int64(AV_TIME_BASE))
        let duration = context.pointee.duration
        let start = context.pointee.start_time
        let size = context.pointee.pb.map { avio_size($0) }
        let container = ContainerInfo(
            formatName: LibAV.string(context.pointee.iformat.pointee.name) ?? "unknown",
            formatLongName: LibAV.string(context.pointee.iformat.pointee.long_name),
            duration: duration == LibAV.noPTS || duration < 0 ? nil : MediaTime(value: duration, timeBase: microseconds),
            startTime: start == LibAV.noPTS ? nil : MediaTime(value: start, timeBase: microseconds),
            bitRate: context.pointee.bit_rate > 0 ? Int(context.pointee.bit_rate) : nil,
            size: size.flatMap { $0 >= 0 ? $0 : nil },
            tags: Dictionary.tags(context.pointee.metadata))
        return (tracks, container, parameters, timeBases)
    }

    /// The codec parameters of track `index`, for a decoder or an output stream.
    public func codecParameters(track index: Int) -> CodecParameters { parameters[index] }

    /// Reads the next packet into `packet`, replacing its previous content. The packet's time
    /// base is set to its stream's.
    /// - Returns: `.packet`, or `.endOfStream` once the input is exhausted.
    /// - Throws: `MediaError` when the input is corrupt or cannot be read.
    public func read(into packet: Packet) throws(MediaError) -> ReadResult {
        av_packet_unref(packet.pointer)
        let result = av_read_frame(context, packet.pointer)
        if result == LibAV.eof { return .endOfStream }
        if result < 0 {
            if let failure = bridge?.failure {
                throw MediaError(.io, "cannot read", libraryMessage: "\(failure)", file: url)
            }
            throw LibAV.error(result, "av_read_frame", "cannot read packet", file: url)
        }
        packet.pointer.pointee.time_base = timeBases[Int(packet.pointer.pointee.stream_index)]
        bytesRead += Int(packet.pointer.pointee.size)
        return .packet
    }
}
