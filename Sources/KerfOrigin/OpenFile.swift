import Hummingbird
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A served file, opened once: its attributes and every byte sent come from the same descriptor,
/// so a file replaced or a path swapped mid-request cannot change what one response holds. The
/// descriptor closes when the last response body using it is gone. Reads run on NIO's thread
/// pool, never on the cooperative pool or an event loop.
final class OpenFile: Sendable {
    let descriptor: Int32
    let size: Int
    let modified: Int64
    let modifiedNanoseconds: Int

    /// Largest chunk read and written at once.
    static let chunk = 128 * 1024

    /// Opens a regular file (refusing a symbolic link as the last component).
    /// - Returns: nil when it cannot be opened or is not a regular file.
    static func open(_ path: String) async -> OpenFile? {
        try? await NIOThreadPool.singleton.runIfActive { () -> OpenFile? in
            let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { return nil }
            var status = stat()
            guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                close(descriptor)
                return nil
            }
            return OpenFile(descriptor: descriptor, status: status)
        } ?? nil
    }

    private init(descriptor: Int32, status: stat) {
        self.descriptor = descriptor
        size = Int(status.st_size)
        modified = Int64(status.st_mtim.tv_sec)
        modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
    }

    deinit { close(descriptor) }

    /// Reads `count` bytes at `offset` (fewer only at the end of the file).
    func read(offset: Int, count: Int) async throws -> ByteBuffer {
        try await NIOThreadPool.singleton.runIfActive { [self] in
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            var done = 0
            while done < count {
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer in
                    max(0, pread(descriptor, pointer.baseAddress, count - done, off_t(offset + done)))
                }
                if n == 0 { break }
                done += n
            }
            return buffer
        }
    }

    /// A response body streaming `range` of the file in chunks. Ends the response early (the
    /// connection closes) if the file shrank, rather than sending fewer bytes than announced.
    func body(_ range: ClosedRange<Int>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { [self] writer in
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let buffer = try await read(offset: offset, count: min(Self.chunk, range.upperBound - offset + 1))
                guard buffer.readableBytes > 0 else { throw OriginError(file: "", message: "file shrank while being sent") }
                offset += buffer.readableBytes
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
    }
}
