import Hummingbird
import NIOCore
import KerfSystem
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A served file, opened once: its attributes and every byte sent come from the same descriptor,
/// so a file replaced or a path swapped mid-request cannot change what one response holds. The
/// descriptor closes when the last response body using it is gone. Reads run on NIO's thread
/// pool, never on the cooperative pool or an event loop.
///
/// A file read whole when opened (`wholeUpTo`) closes its descriptor at once: it is a snapshot
/// the `FileCache` can keep without holding the file open. A large snapshot can also get a
/// sealed in-memory copy (`sealFrom`) that plain HTTP/1.1 connections are sent with `sendfile`.
final class OpenFile: Sendable {
    /// The open descriptor, or nil for a snapshot read whole.
    let descriptor: SystemFile?
    /// A sealed in-memory copy of a snapshot's content (`SystemFile.sealedCopy`), or nil.
    let sealed: SystemFile?
    let size: Int
    let modified: Int64
    let modifiedNanoseconds: Int
    /// What tells whether the file on disk is still the one read: device, inode, size and the
    /// times of its last modification and status change.
    private let identity: [Int64]
    /// The whole content of a small file (playlists, MPDs, keys), read when it was opened.
    let contents: ByteBuffer?

    /// Largest chunk read and written at once.
    static let chunk = 128 * 1024
    /// Files up to this size are read whole when opened: one trip to the thread pool per request.
    static let smallFile = 256 * 1024

    /// Resolves `raw` (a percent-encoded path below the root) and opens the file it names, in
    /// one trip to the thread pool: path checks, `open` (refusing a symbolic link as the last
    /// component), `fstat`, and for small files the content.
    /// - Parameters:
    ///   - wholeUpTo: files up to this size are read whole and their descriptor closed.
    ///   - sealFrom: such snapshots at least this large (up to half of `wholeUpTo`) also get a
    ///     sealed copy.
    ///   - previous: a snapshot of the same path, returned as it is when the file is unchanged.
    static func open(raw: Substring, root: String, wholeUpTo: Int = 0, sealFrom: Int = .max,
                     reusing previous: OpenFile? = nil) async -> Result<OpenFile, RequestPath.Rejection> {
        do {
            return try await NIOThreadPool.singleton.runIfActive { () -> Result<OpenFile, RequestPath.Rejection> in
                switch RequestPath.resolve(raw, under: root) {
                case .success(let found): return open(path: found.file, wholeUpTo: wholeUpTo, sealFrom: sealFrom, reusing: previous)
                case .failure(let rejection): return .failure(rejection)
                }
            }
        } catch {
            return .failure(.notFound)
        }
    }

    /// Opens the regular file at `path` (a resolved `RequestPath`). Blocking.
    /// - Parameters:
    ///   - sealFrom: a snapshot at least this large, and no larger than half of `wholeUpTo`
    ///     (bytes and copy together then fit in it), also gets a sealed copy, when one can be
    ///     made (without one, it is sent from memory as smaller ones are).
    ///   - previous: a snapshot of the same path (an expired cache entry): when the file is
    ///     still the one it was read from (same `identity`) and would be read whole again, it
    ///     is returned as it is, without reading anything (nginx's `open_file_cache`
    ///     revalidation).
    ///   - pread: the system call reading the content (tests interrupt it).
    /// - Returns: `.notFound` when nothing servable is there (missing, not a regular file, a
    ///   symbolic link, not readable, or shorter than its size); `.unreadable` for other
    ///   failures (EIO, EMFILE), which say nothing about the file's existence.
    static func open(path: String, wholeUpTo: Int, sealFrom: Int = .max, reusing previous: OpenFile? = nil,
                     pread: PRead = Glibc.pread) -> Result<OpenFile, RequestPath.Rejection> {
        let file: SystemFile
        do throws(SystemError) { file = try .open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) } catch {
            return .failure(Self.missing.contains(error.errno) ? .notFound : .unreadable(error))
        }
        do throws(SystemError) {
            let status = try file.status()
            guard status.st_mode & S_IFMT == S_IFREG else {
                try? file.close()
                return .failure(.notFound)
            }
            let size = Int(status.st_size)
            if let previous, previous.isSnapshot, size <= wholeUpTo, previous.identity == Self.identity(status) {
                try? file.close()
                return .success(previous)
            }
            if size <= wholeUpTo {
                defer { try? file.close() }
                let contents = try readFully(file, offset: 0, count: size, pread: pread)
                guard contents.readableBytes == size else { return .failure(.notFound) }
                // Bytes and copy together are what is read whole at most.
                let sealed = size >= sealFrom && size <= wholeUpTo / 2 ? sealedCopy(of: contents) : nil
                return .success(OpenFile(descriptor: nil, status: status, contents: contents, sealed: sealed))
            }
            let contents = size <= smallFile ? try readFully(file, offset: 0, count: size, pread: pread) : nil
            return .success(OpenFile(descriptor: file, status: status, contents: contents, sealed: nil))
        } catch {
            try? file.close()
            return .failure(.unreadable(error))
        }
    }

    /// Sealed copies open at once, at most: each holds a descriptor, which connections need
    /// more (a file cache of many GiB would otherwise hold thousands).
    static let maximumSealedCopies = 1024
    private static let sealedCopies = Atomic<Int>(0)

    /// A sealed copy of `contents`, or nil when there are `maximumSealedCopies` already or the
    /// system refuses one (EMFILE, ENOMEM): the snapshot is then sent from memory.
    private static func sealedCopy(of contents: ByteBuffer) -> SystemFile? {
        guard sealedCopies.wrappingAdd(1, ordering: .relaxed).newValue <= maximumSealedCopies,
              let sealed = contents.withUnsafeReadableBytes({ try? SystemFile.sealedCopy(of: $0, name: "kerf-vod") }) else {
            sealedCopies.wrappingSubtract(1, ordering: .relaxed)
            return nil
        }
        return sealed
    }

    /// `open` errors meaning there is nothing to serve at the path.
    private static let missing: Set<Int32> = [ENOENT, ENOTDIR, ELOOP, EACCES, EPERM, ENXIO, ENAMETOOLONG]

    /// The `pread` system call's shape.
    typealias PRead = (Int32, UnsafeMutableRawPointer?, Int, off_t) -> Int

    private init(descriptor: SystemFile?, status: stat, contents: ByteBuffer?, sealed: SystemFile?) {
        self.descriptor = descriptor
        self.sealed = sealed
        size = Int(status.st_size)
        modified = Int64(status.st_mtim.tv_sec)
        modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
        identity = Self.identity(status)
        self.contents = contents
    }

    /// `count` bytes at `offset` (fewer only at the end of the file), through
    /// `BlockingIO.readFully`: interrupted calls are retried, short reads resumed. Blocking.
    /// - Throws: `SystemError` from `pread`.
    static func readFully(_ file: SystemFile, offset: Int, count: Int, pread: PRead = Glibc.pread) throws(SystemError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: max(count, 1))
        var result: Result<Int, SystemError> = .success(0)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { free in
            result = Result { () throws(SystemError) -> Int in
                try BlockingIO.readFully(into: UnsafeMutableRawBufferPointer(rebasing: free[..<count]), call: "pread", path: file.path) { rest, done in
                    pread(file.rawValue, rest.baseAddress, rest.count, off_t(offset + done))
                }.completed("pread", path: file.path)
            }
            return (try? result.get()) ?? 0
        }
        _ = try result.get()
        return buffer
    }

    /// Device, inode, size, modification and status change times (a rewrite in place changes
    /// the last, even one that sets the modification time back).
    private static func identity(_ status: stat) -> [Int64] {
        [Int64(bitPattern: UInt64(status.st_dev)), Int64(bitPattern: UInt64(status.st_ino)), Int64(status.st_size),
         Int64(status.st_mtim.tv_sec), Int64(status.st_mtim.tv_nsec), Int64(status.st_ctim.tv_sec), Int64(status.st_ctim.tv_nsec)]
    }

    /// Whether the whole content is in memory (no descriptor is held).
    var isSnapshot: Bool { descriptor == nil }

    /// Bytes held in memory: the content read, and the sealed copy's.
    var memoryBytes: Int { (contents?.readableBytes ?? 0) + (sealed == nil ? 0 : size) }

    deinit {
        try? descriptor?.close()
        if let sealed {
            try? sealed.close()
            Self.sealedCopies.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    /// Reads `count` bytes at `offset` (fewer only at the end of the file; none past the
    /// content of a snapshot).
    /// - Throws: `SystemError` from `pread`.
    func read(offset: Int, count: Int) async throws -> ByteBuffer {
        if let contents, offset + count <= contents.readableBytes {
            return contents.getSlice(at: contents.readerIndex + offset, length: count)!
        }
        guard let descriptor else { return ByteBuffer() }
        return try await NIOThreadPool.singleton.runIfActive { try Self.readFully(descriptor, offset: offset, count: count) }
    }

    /// Whether `range` is in memory (`contents`).
    func holds(_ range: ClosedRange<Int>) -> Bool {
        range.upperBound < contents?.readableBytes ?? 0
    }

    /// A response body streaming `range` of the file in chunks. Ends the response early (the
    /// connection closes) if the file shrank, rather than sending fewer bytes than announced.
    /// - Parameter channel: the request's channel. Hummingbird's writer takes a chunk at once
    ///   while the connection was writable when last seen, and hands it to the event loop later:
    ///   when the loop lags (busy with TLS for hundreds of connections), chunks read at disk
    ///   speed would pile up in memory. After each chunk the body waits for a turn of the loop,
    ///   by which the chunk has gone into the channel and its writability is known, and over TLS
    ///   until the connection's `TLSWritePacer` holds less than a chunk (the socket's
    ///   writability does not count what it holds).
    func body(_ range: ClosedRange<Int>, pacedBy channel: (any Channel)? = nil) -> ResponseBody {
        if holds(range), let contents {
            return ResponseBody(byteBuffer: contents.getSlice(at: contents.readerIndex + range.lowerBound, length: range.count)!)
        }
        return ResponseBody(contentLength: range.count) { [self] writer in
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let buffer = try await read(offset: offset, count: min(Self.chunk, range.upperBound - offset + 1))
                guard buffer.readableBytes > 0 else { throw OriginError(.file, "file shrank while being sent") }
                offset += buffer.readableBytes
                try await writer.write(buffer)
                if let channel { try await TLSWritePacer.ready(channel).get() }
            }
            try await writer.finish(nil)
        }
    }
}
