#if canImport(Glibc)
import Glibc
#endif

/// Whole transfers over single system calls: loops that resume short reads and writes where
/// they stopped, each call going through `SystemCall.blocking` (EINTR retried, EAGAIN reported
/// as `.wouldBlock` with the progress made, other errno thrown).
///
/// The system call is a parameter, so tests can interrupt, shorten, stall or fail it;
/// `SystemFile` supplies the real ones.
public enum BlockingIO {
    /// Buffers per `writev` call (IOV_MAX on Linux).
    public static let maximumVectors = 1024

    /// Calls `write` with the bytes still to write until all of `bytes` is written.
    /// - Parameter write: one system call (`write`, `pwrite`, `send`) given the unwritten rest
    ///   and the offset of its first byte in `bytes`; returns the count written or -1 with errno.
    /// - Returns: `.processed(bytes.count)`, or `.wouldBlock(written)` when the descriptor is
    ///   non-blocking and cannot take more now.
    /// - Throws: `SystemError`: the call's errno, or `noProgress` when it wrote nothing.
    public static func writeAll(
        _ bytes: UnsafeRawBufferPointer, call: String, path: String?,
        _ write: (_ rest: UnsafeRawBufferPointer, _ offset: Int) -> Int
    ) throws(SystemError) -> IOResult<Int> {
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            switch try SystemCall.blocking(call, path: path, { write(rest, done) }) {
            case .wouldBlock: return .wouldBlock(done)
            case .processed(let count):
                guard count > 0 else { throw SystemError.noProgress(call: call, path: path) }
                done += count
            }
        }
        return .processed(done)
    }

    /// Calls `read` with the part of `buffer` still empty until `buffer` is full or a call
    /// returns 0 (end of file).
    /// - Parameter read: one system call (`read`, `pread`, `recv`) given the empty rest and its
    ///   offset in `buffer`; returns the count read, 0 at the end, or -1 with errno.
    /// - Returns: `.processed(count)`, less than `buffer.count` only at the end of the file, or
    ///   `.wouldBlock(count)` when the descriptor is non-blocking and has nothing more now.
    /// - Throws: `SystemError` with the call's errno.
    public static func readFully(
        into buffer: UnsafeMutableRawBufferPointer, call: String, path: String?,
        _ read: (_ rest: UnsafeMutableRawBufferPointer, _ offset: Int) -> Int
    ) throws(SystemError) -> IOResult<Int> {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            switch try SystemCall.blocking(call, path: path, { read(rest, done) }) {
            case .wouldBlock: return .wouldBlock(done)
            case .processed(let count):
                guard count > 0 else { return .processed(done) }
                done += count
            }
        }
        return .processed(done)
    }

    /// Calls `gather` (`writev`) until every buffer is written, in order, with at most
    /// `maximumVectors` per call: a short write resumes inside the buffer it stopped in. Empty
    /// buffers are skipped.
    /// - Parameter gather: one system call given vectors and their count; returns the count of
    ///   bytes written or -1 with errno.
    /// - Returns: `.processed(total)`, or `.wouldBlock(written)`.
    /// - Throws: `SystemError`: the call's errno, or `noProgress` when it wrote nothing.
    public static func writeAll(
        gathering buffers: [UnsafeRawBufferPointer], call: String, path: String?,
        _ gather: (UnsafePointer<iovec>, Int32) -> Int
    ) throws(SystemError) -> IOResult<Int> {
        var vectors = buffers.compactMap { buffer in
            buffer.isEmpty ? nil : iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress), iov_len: buffer.count)
        }
        var first = 0, done = 0
        while first < vectors.count {
            let count = Int32(min(vectors.count - first, maximumVectors))
            let result = try vectors.withUnsafeBufferPointer { vectors throws(SystemError) in
                try SystemCall.blocking(call, path: path) { gather(vectors.baseAddress! + first, count) }
            }
            guard case .processed(var written) = result else { return .wouldBlock(done) }
            guard written > 0 else { throw SystemError.noProgress(call: call, path: path) }
            done += written
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
        return .processed(done)
    }
}
