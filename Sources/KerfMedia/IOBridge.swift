internal import CFFmpeg
#if canImport(Glibc)
import Glibc
#endif

/// Connects a Swift `ByteSource` or `ByteSink` to libavformat through an `AVIOContext` whose
/// read/write/seek callbacks call back into Swift. The bridge owns the context and its buffer;
/// the format context that uses it must be closed first.
final class IOBridge {
    private(set) var context: UnsafeMutablePointer<AVIOContext>
    let source: ByteSource?
    let sink: ByteSink?
    /// The error a callback caught, reported by the owner instead of libav's generic EIO.
    var failure: (any Error)?

    static let bufferSize: Int32 = 64 * 1024

    init(source: ByteSource) throws(MediaError) {
        self.source = source
        self.sink = nil
        self.context = try IOBridge.allocate(writable: false)
        finishSetup(seekable: source.size != nil)
    }

    init(sink: ByteSink) throws(MediaError) {
        self.source = nil
        self.sink = sink
        self.context = try IOBridge.allocate(writable: true)
        finishSetup(seekable: true)
    }

    private static func allocate(writable: Bool) throws(MediaError) -> UnsafeMutablePointer<AVIOContext> {
        guard let buffer = av_malloc(Int(bufferSize))?.assumingMemoryBound(to: UInt8.self) else {
            throw MediaError(.outOfMemory, "cannot allocate I/O buffer", function: "av_malloc")
        }
        guard let context = avio_alloc_context(buffer, bufferSize, writable ? 1 : 0, nil,
                                               writable ? nil : ioRead, writable ? ioWrite : nil, ioSeek) else {
            av_free(buffer)
            throw MediaError(.outOfMemory, "cannot allocate I/O context", function: "avio_alloc_context")
        }
        return context
    }

    private func finishSetup(seekable: Bool) {
        context.pointee.opaque = Unmanaged.passUnretained(self).toOpaque()
        context.pointee.seekable = seekable ? AVIO_SEEKABLE_NORMAL : 0
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        if sink != nil { avio_flush(context) }
        av_freep(&context.pointee.buffer)
        var p: UnsafeMutablePointer<AVIOContext>? = context
        avio_context_free(&p)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    static func bridge(_ opaque: UnsafeMutableRawPointer?) -> IOBridge {
        Unmanaged<IOBridge>.fromOpaque(opaque!).takeUnretainedValue()
    }
}

private let ioRead: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = { opaque, buffer, size in
    let bridge = IOBridge.bridge(opaque)
    guard let source = bridge.source, let buffer else { return kerf_averror_einval() }
    do {
        let count = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(size)))
        return count == 0 ? kerf_averror_eof() : Int32(count)
    } catch {
        bridge.failure = error
        return kerf_averror_eio()
    }
}

private let ioWrite: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = { opaque, buffer, size in
    let bridge = IOBridge.bridge(opaque)
    guard let sink = bridge.sink else { return kerf_averror_einval() }
    guard let buffer, size > 0 else { return 0 }
    do {
        try sink.write(UnsafeRawBufferPointer(start: buffer, count: Int(size)))
        return size
    } catch {
        bridge.failure = error
        return kerf_averror_eio()
    }
}

private let ioSeek: @convention(c) (UnsafeMutableRawPointer?, Int64, Int32) -> Int64 = { opaque, offset, whence in
    let bridge = IOBridge.bridge(opaque)
    do {
        if let source = bridge.source {
            if whence & kerf_avseek_size() != 0 { return source.size ?? -1 }
            guard whence & ~AVSEEK_FORCE == SEEK_SET else { return Int64(kerf_averror_einval()) }
            return try source.seek(to: offset) ? offset : -1
        }
        if let sink = bridge.sink {
            if whence & kerf_avseek_size() != 0 { return -1 }
            let target: Int64
            switch whence & ~AVSEEK_FORCE {
            case SEEK_SET: target = offset
            case SEEK_CUR: target = sink.position + offset
            default: return Int64(kerf_averror_einval())
            }
            return try sink.seek(to: target) ? target : -1
        }
    } catch {
        bridge.failure = error
    }
    return -1
}
