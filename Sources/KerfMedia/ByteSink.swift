import KerfSystem
#if canImport(Glibc)
import Glibc
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

/// A `ByteSink` writing to a file through a POSIX descriptor; seekable. Writes go through
/// `SystemFile` (EINTR retried, short writes resumed).
public final class FileByteSink: ByteSink {
    public let path: String
    private var descriptor: SystemFile?
    public private(set) var position: Int64 = 0

    /// Creates or truncates `path`.
    public init(path: String) throws(MediaError) {
        self.path = path
        do throws(SystemError) {
            descriptor = try SystemFile.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
        } catch {
            throw MediaError(error, "cannot create file")
        }
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        try? descriptor?.close()
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }

    /// - Throws: `MediaError` `.io` (`.wrongState` after `close`).
    public func write(_ data: UnsafeRawBufferPointer) throws {
        let descriptor = try openDescriptor()
        do throws(SystemError) { try descriptor.write(all: data) } catch { throw MediaError(error, "cannot write file") }
        position += Int64(data.count)
    }

    /// Writes `buffers` one after another with as few `writev` calls as the kernel allows: one
    /// system call for many small payloads, and page-cache writes as large as the whole.
    /// - Throws: `MediaError` `.io` (`.wrongState` after `close`).
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws {
        let descriptor = try openDescriptor().rawValue
        position += Int64(try Self.writeAll(buffers, file: path) { writev(descriptor, $0, $1) })
    }

    /// Calls `gather` (`writev` on a descriptor) until every buffer is written
    /// (`BlockingIO.writeAll(gathering:)`: short writes resume inside the buffer they stopped
    /// in, EINTR retries, a call writing nothing fails).
    /// - Returns: the count of bytes written.
    /// - Throws: `MediaError` `.io`.
    static func writeAll(_ buffers: [UnsafeRawBufferPointer], file: String,
                         _ gather: (UnsafePointer<iovec>, Int32) -> Int) throws(MediaError) -> Int {
        do throws(SystemError) {
            return try BlockingIO.writeAll(gathering: buffers, call: "writev", path: file, gather).completed("writev", path: file)
        } catch {
            throw MediaError(error, "cannot write file")
        }
    }

    public func seek(to offset: Int64) throws -> Bool {
        guard let descriptor, (try? descriptor.seek(to: offset)) != nil else { return false }
        position = offset
        return true
    }

    public func flush() throws {}

    /// Flushes to stable storage (`fsync`) and closes the descriptor. Closing a closed sink
    /// does nothing.
    /// - Throws: `MediaError` `.io`; the descriptor is closed either way.
    public func close(sync: Bool = false) throws {
        guard let descriptor else { return }
        self.descriptor = nil
        if sync {
            do throws(SystemError) { try descriptor.sync() } catch {
                try? descriptor.close()
                throw MediaError(error, "cannot sync file")
            }
        }
        do throws(SystemError) { try descriptor.close() } catch { throw MediaError(error, "cannot close file") }
    }

    private func openDescriptor() throws(MediaError) -> SystemFile {
        guard let descriptor else { throw MediaError(.wrongState, "write after close", file: path) }
        return descriptor
    }
}
