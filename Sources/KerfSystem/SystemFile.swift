#if canImport(Glibc)
import Glibc
#endif

/// A descriptor for blocking I/O on a file, with the path it was opened from (for errors).
///
/// Every call goes through `SystemCall`: EINTR is retried and short transfers resume
/// (`BlockingIO`). A regular file never "would block", so EAGAIN is thrown here as a
/// `SystemError` like any other errno. Not owning: the opener calls `close()` once.
public struct SystemFile: Sendable {
    public let rawValue: Int32
    public let path: String?

    public init(rawValue: Int32, path: String? = nil) {
        self.rawValue = rawValue
        self.path = path
    }

    /// Opens `path` (`open(2)`; add `O_CLOEXEC` to `flags` as always).
    /// - Parameter permissions: for a file `O_CREAT` creates.
    /// - Throws: `SystemError` from `open`.
    public static func open(_ path: String, _ flags: Int32, permissions: mode_t = 0o644) throws(SystemError) -> SystemFile {
        let descriptor = try SystemCall.retrying("open", path: path) { Glibc.open(path, flags, permissions) }
        return SystemFile(rawValue: descriptor, path: path)
    }

    /// Closes the descriptor. Not retried on EINTR: Linux has released it already, and a retry
    /// could close a descriptor another thread just opened.
    /// - Throws: `SystemError` from `close` (EIO: earlier writes may be lost).
    public func close() throws(SystemError) {
        guard Glibc.close(rawValue) == -1 else { return }
        let error = errno
        guard error != EINTR else { return }
        throw SystemError(errno: error, call: "close", path: path)
    }

    /// Flushes the file's data and metadata to stable storage (`fsync`).
    public func sync() throws(SystemError) {
        _ = try SystemCall.retrying("fsync", path: path) { fsync(rawValue) }
    }

    /// The file's status (`fstat`).
    public func status() throws(SystemError) -> stat {
        var status = stat()
        _ = try SystemCall.retrying("fstat", path: path) { fstat(rawValue, &status) }
        return status
    }

    /// Moves the file position to `offset` bytes from the start (`lseek`).
    public func seek(to offset: Int64) throws(SystemError) {
        _ = try SystemCall.retrying("lseek", path: path) { lseek(rawValue, off_t(offset), SEEK_SET) }
    }

    /// Writes all of `bytes` at the file position (`write`).
    public func write(all bytes: UnsafeRawBufferPointer) throws(SystemError) {
        let descriptor = rawValue
        _ = try BlockingIO.writeAll(bytes, call: "write", path: path) { rest, _ in
            Glibc.write(descriptor, rest.baseAddress, rest.count)
        }.completed("write", path: path)
    }

    /// Writes all of `bytes` at the file position (`write`).
    public func write(all bytes: [UInt8]) throws(SystemError) {
        try bytes.withUnsafeBytes { bytes in Result { () throws(SystemError) in try write(all: bytes) } }.get()
    }

    /// Writes `buffers` one after another at the file position with as few `writev` calls as
    /// the kernel allows.
    /// - Returns: the count of bytes written (the sum of the buffers' sizes).
    @discardableResult
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws(SystemError) -> Int {
        let descriptor = rawValue
        return try BlockingIO.writeAll(gathering: buffers, call: "writev", path: path) { vectors, count in
            writev(descriptor, vectors, count)
        }.completed("writev", path: path)
    }

    /// Reads from the file position until `buffer` is full or the file ends (`read`).
    /// - Returns: the count read; less than `buffer.count` only at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        let descriptor = rawValue
        return try BlockingIO.readFully(into: buffer, call: "read", path: path) { rest, _ in
            Glibc.read(descriptor, rest.baseAddress, rest.count)
        }.completed("read", path: path)
    }

    /// Reads `buffer.count` bytes at `offset` without moving the file position (`pread`).
    /// - Returns: the count read; less than `buffer.count` only at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemError) -> Int {
        let descriptor = rawValue
        return try BlockingIO.readFully(into: buffer, call: "pread", path: path) { rest, done in
            pread(descriptor, rest.baseAddress, rest.count, off_t(offset + done))
        }.completed("pread", path: path)
    }

    /// Reads into `bytes` until it is full or the file ends: at the file position (`read`), or
    /// at `offset` without moving it (`pread`).
    /// - Returns: the count read; less than `bytes.count` only at the end of the file.
    public func read(into bytes: inout [UInt8], at offset: Int? = nil) throws(SystemError) -> Int {
        try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) -> Int in
                if let offset { return try read(into: buffer, at: offset) }
                return try read(into: buffer)
            }
        }.get()
    }
}
