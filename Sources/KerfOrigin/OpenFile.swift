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
///
/// A file read whole when opened (`wholeUpTo`) closes its descriptor at once: it is a snapshot
/// the `FileCache` can keep without holding descriptors.
final class OpenFile: Sendable {
    /// The open descriptor, or -1 for a snapshot read whole.
    let descriptor: Int32
    let size: Int
    let modified: Int64
    let modifiedNanoseconds: Int
    /// The whole content of a small file (playlists, MPDs, keys), read when it was opened.
    let contents: ByteBuffer?

    /// Largest chunk read and written at once.
    static let chunk = 128 * 1024
    /// Files up to this size are read whole when opened: one trip to the thread pool per request.
    static let smallFile = 256 * 1024

    /// Resolves `raw` (a percent-encoded path below the root) and opens the file it names, in
    /// one trip to the thread pool: path checks, `open` (refusing a symbolic link as the last
    /// component), `fstat`, and for small files the content.
    /// - Parameter wholeUpTo: files up to this size are read whole and their descriptor closed.
    static func open(raw: Substring, root: String, wholeUpTo: Int = 0) async -> Result<OpenFile, RequestPath.Rejection> {
        do {
            return try await NIOThreadPool.singleton.runIfActive { () -> Result<OpenFile, RequestPath.Rejection> in
                let path: String
                switch RequestPath.resolve(raw, under: root) {
                case .success(let found): path = found.file
                case .failure(let rejection): return .failure(rejection)
                }
                let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                guard descriptor >= 0 else { return .failure(.notFound) }
                var status = stat()
                guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                    close(descriptor)
                    return .failure(.notFound)
                }
                let size = Int(status.st_size)
                if size <= wholeUpTo {
                    let contents = readFully(descriptor, offset: 0, count: size)
                    close(descriptor)
                    guard contents.readableBytes == size else { return .failure(.notFound) }
                    return .success(OpenFile(descriptor: -1, status: status, contents: contents))
                }
                let contents = size <= smallFile ? readFully(descriptor, offset: 0, count: size) : nil
                return .success(OpenFile(descriptor: descriptor, status: status, contents: contents))
            }
        } catch {
            return .failure(.notFound)
        }
    }

    private init(descriptor: Int32, status: stat, contents: ByteBuffer?) {
        self.descriptor = descriptor
        size = Int(status.st_size)
        modified = Int64(status.st_mtim.tv_sec)
        modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
        self.contents = contents
    }

    /// `count` bytes at `offset` with pread (fewer only at the end of the file). Blocking.
    private static func readFully(_ descriptor: Int32, offset: Int, count: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: max(count, 1))
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

    /// Whether the whole content is in memory (no descriptor is held).
    var isSnapshot: Bool { descriptor < 0 }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Reads `count` bytes at `offset` (fewer only at the end of the file).
    func read(offset: Int, count: Int) async throws -> ByteBuffer {
        if let contents, offset + count <= contents.readableBytes {
            return contents.getSlice(at: contents.readerIndex + offset, length: count)!
        }
        let descriptor = self.descriptor
        return try await NIOThreadPool.singleton.runIfActive { Self.readFully(descriptor, offset: offset, count: count) }
    }

    /// A response body streaming `range` of the file in chunks. Ends the response early (the
    /// connection closes) if the file shrank, rather than sending fewer bytes than announced.
    func body(_ range: ClosedRange<Int>) -> ResponseBody {
        if let contents, range.upperBound < contents.readableBytes {
            return ResponseBody(byteBuffer: contents.getSlice(at: contents.readerIndex + range.lowerBound, length: range.count)!)
        }
        return ResponseBody(contentLength: range.count) { [self] writer in
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
