#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A destination for muxed bytes, written by libavformat through AVIOContext write callbacks.
public protocol ByteSink: AnyObject {
    /// Appends or overwrites bytes at the current position.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Moves the write position; `false` when the sink cannot seek (a network stream). Muxers
    /// that must patch headers (non-fragmented MP4) need a seekable sink.
    func seek(to offset: Int64) throws -> Bool
    /// Current write position in bytes.
    var position: Int64 { get }
    /// Makes written bytes durable or delivers them; called when the muxer flushes.
    func flush() throws
}

/// A `ByteSink` that collects bytes in memory; seekable.
public final class MemoryByteSink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public private(set) var position: Int64 = 0

    public init() {}

    public func write(_ data: UnsafeRawBufferPointer) throws {
        let start = Int(position)
        let overlap = min(data.count, bytes.count - start)
        if overlap > 0 {
            bytes.withUnsafeMutableBytes { target in
                target.baseAddress!.advanced(by: start).copyMemory(from: data.baseAddress!, byteCount: overlap)
            }
        }
        if overlap < data.count {
            bytes.append(contentsOf: data[overlap...])
        }
        position += Int64(data.count)
    }

    public func seek(to offset: Int64) throws -> Bool {
        guard offset >= 0, offset <= Int64(bytes.count) else { return false }
        position = offset
        return true
    }

    public func flush() throws {}

    /// Drops the collected bytes and rewinds, keeping the allocation.
    public func reset() {
        bytes.removeAll(keepingCapacity: true)
        position = 0
    }
}

/// A `ByteSink` writing to a file through a POSIX descriptor; seekable.
public final class FileByteSink: ByteSink {
    public let path: String
    private var descriptor: Int32
    public private(set) var position: Int64 = 0

    /// Creates or truncates `path`.
    public init(path: String) throws(MediaError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw MediaError(.io, "cannot create file", libraryMessage: String(cString: strerror(errno)), file: path)
        }
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    public func write(_ data: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < data.count {
            let written = Glibc.write(descriptor, data.baseAddress!.advanced(by: offset), data.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw MediaError(.io, "cannot write file", libraryMessage: String(cString: strerror(errno)), file: path)
            }
            offset += written
        }
        position += Int64(data.count)
    }

    /// Writes `buffers` one after another with as few `writev` calls as the kernel allows: one
    /// system call for many small payloads, and page-cache writes as large as the whole.
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws {
        let vectors = buffers.compactMap { buffer in
            buffer.isEmpty ? nil : iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress), iov_len: buffer.count)
        }
        let descriptor = descriptor
        try Self.writeAll(vectors, file: path) { writev(descriptor, $0, $1) }
        position += Int64(vectors.reduce(0) { $0 + $1.iov_len })
    }

    /// Calls `gather` (`writev` on a descriptor) until every vector is written: short writes
    /// resume inside the buffer they stopped in, EINTR retries.
    static func writeAll(_ vectors: [iovec], file: String, _ gather: (UnsafePointer<iovec>, Int32) -> Int) throws {
        var vectors = vectors
        var first = 0
        while first < vectors.count {
            let count = min(vectors.count - first, maximumVectors)
            var written = vectors.withUnsafeBufferPointer { gather($0.baseAddress! + first, Int32(count)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw MediaError(.io, "cannot write file", libraryMessage: String(cString: strerror(errno)), file: file)
            }
            guard written > 0 else { throw MediaError(.io, "cannot write file", libraryMessage: "no progress", file: file) }
            while written > 0 {
                if written >= vectors[first].iov_len {
                    written -= vectors[first].iov_len
                    first += 1
                } else {
                    vectors[first].iov_base += written
                    vectors[first].iov_len -= written
                    written = 0
                }
            }
        }
    }

    /// Buffers per `writev` call (IOV_MAX on Linux).
    static let maximumVectors = 1024

    public func seek(to offset: Int64) throws -> Bool {
        guard lseek(descriptor, off_t(offset), SEEK_SET) >= 0 else { return false }
        position = offset
        return true
    }

    public func flush() throws {}

    /// Flushes to stable storage (`fsync`) and closes the descriptor.
    public func close(sync: Bool = false) throws {
        guard descriptor >= 0 else { return }
        if sync, fsync(descriptor) != 0 {
            throw MediaError(.io, "cannot sync file", libraryMessage: String(cString: strerror(errno)), file: path)
        }
        let result = Glibc.close(descriptor)
        descriptor = -1
        if result != 0 {
            throw MediaError(.io, "cannot close file", libraryMessage: String(cString: strerror(errno)), file: path)
        }
    }
}
