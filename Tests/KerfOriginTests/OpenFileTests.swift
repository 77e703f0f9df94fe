import Foundation
import Glibc
import KerfSystem
import KerfTestSupport
import KerfTestTags
import NIOCore
import Testing
@testable import KerfOrigin

/// Opening a served file: an interrupted or short read is retried, never a 404; a missing file
/// is a 404; a read that fails is not.
@Suite(.tags(.unit)) struct OpenFileTests {
    static let content = Array("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n".utf8)

    /// A folder holding `a.m3u8` with `content`, and `link.m3u8` pointing to it.
    static func folder() throws -> URL {
        let root = try Fixtures.temporaryDirectory("kerf-open")
        try Data(content).write(to: root.appendingPathComponent("a.m3u8"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("link.m3u8").path, withDestinationPath: "a.m3u8")
        return root
    }

    /// `pread` failing with `failures` in turn (EINTR first), then reading at most 5 bytes a call.
    final class Interrupting: @unchecked Sendable {
        var failures: [Int32]
        var calls = 0
        init(_ failures: [Int32]) { self.failures = failures }

        func pread(_ descriptor: Int32, _ target: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
            calls += 1
            if !failures.isEmpty { errno = failures.removeFirst(); return -1 }
            return Glibc.pread(descriptor, target, min(count, 5), offset)
        }
    }

    @Test(arguments: [0, 1 << 20])
    func interruptedAndShortReadsStillOpenTheFile(wholeUpTo: Int) throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let fake = Interrupting([EINTR, EINTR])
        let result = OpenFile.open(path: root.appendingPathComponent("a.m3u8").path, wholeUpTo: wholeUpTo, pread: fake.pread)
        guard case .success(let file) = result else {
            Issue.record("not opened: \(result)")
            return
        }
        #expect(file.size == Self.content.count)
        #expect(file.isSnapshot == (wholeUpTo > 0))
        #expect(file.contents.map { Array($0.readableBytesView) } == Self.content)
        #expect(fake.calls == 2 + (Self.content.count + 4) / 5)
    }

    @Test func aFailedReadIsNotANotFound() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let fake = Interrupting([EINTR, EIO])
        let result = OpenFile.open(path: root.appendingPathComponent("a.m3u8").path, wholeUpTo: 1 << 20, pread: fake.pread)
        guard case .failure(.unreadable(let error)) = result else {
            Issue.record("expected unreadable: \(result)")
            return
        }
        #expect(error.code == "EIO")
        #expect(error.call == "pread")
    }

    @Test func missingFilesLinksAndFoldersAreNotFound() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        for name in ["b.m3u8", "link.m3u8", ""] {
            let result = OpenFile.open(path: root.appendingPathComponent(name).path, wholeUpTo: 1 << 20)
            #expect(result.failure == .notFound, "\(name)")
        }
    }

    @Test func readsAtAnOffsetThroughTheDescriptor() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        guard case .success(let file) = OpenFile.open(path: root.appendingPathComponent("a.m3u8").path, wholeUpTo: -1) else {
            Issue.record("not opened")
            return
        }
        let descriptor = try #require(file.descriptor)
        let fake = Interrupting([EINTR])
        let bytes = try OpenFile.readFully(descriptor, offset: 8, count: 100, pread: fake.pread)
        #expect(Array(bytes.readableBytesView) == Array(Self.content[8...]))
    }
}

extension OpenFileTests {
    /// A snapshot at least `sealFrom` long gets a sealed copy with the same bytes that nothing
    /// can write, grow or shrink; a shorter one, or one opened without `sealFrom`, gets none.
    @Test func largeSnapshotsGetASealedCopy() throws {
        let root = try Fixtures.temporaryDirectory("kerf-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let path = root.appendingPathComponent("big.m4s").path
        try Data(content).write(to: URL(fileURLWithPath: path))
        guard case .success(let file) = OpenFile.open(path: path, wholeUpTo: 1 << 20, sealFrom: 128 * 1024) else {
            Issue.record("not opened")
            return
        }
        let sealed = try #require(file.sealed)
        #expect(file.isSnapshot && file.memoryBytes == 2 * content.count)
        var copy = [UInt8](repeating: 0, count: content.count + 1)
        #expect(Glibc.pread(sealed.rawValue, &copy, copy.count, 0) == content.count)
        #expect(Array(copy.prefix(content.count)) == content)
        #expect(Glibc.pwrite(sealed.rawValue, [1, 2, 3], 3, 0) == -1 && errno == EPERM)
        #expect(ftruncate(sealed.rawValue, 10) == -1 && errno == EPERM)
        #expect(ftruncate(sealed.rawValue, off_t(content.count + 10)) == -1 && errno == EPERM)

        guard case .success(let small) = OpenFile.open(path: path, wholeUpTo: 1 << 20, sealFrom: content.count + 1),
              case .success(let plain) = OpenFile.open(path: path, wholeUpTo: 1 << 20) else {
            Issue.record("not opened")
            return
        }
        #expect(small.sealed == nil && plain.sealed == nil && plain.memoryBytes == content.count)
    }

    /// An expired snapshot is handed back without a read while its file is the same (inode,
    /// size, times); a file replaced, or written in place, is read again.
    @Test func anUnchangedFileIsNotReadAgain() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("a.m3u8").path
        guard case .success(let first) = OpenFile.open(path: path, wholeUpTo: 1 << 20) else {
            Issue.record("not opened")
            return
        }
        let counting = Interrupting([])
        guard case .success(let again) = OpenFile.open(path: path, wholeUpTo: 1 << 20, reusing: first, pread: counting.pread) else {
            Issue.record("not opened again")
            return
        }
        #expect(again === first && counting.calls == 0)
        // Not read whole this time: the snapshot does not answer for it.
        guard case .success(let streamed) = OpenFile.open(path: path, wholeUpTo: -1, reusing: first) else {
            Issue.record("not opened for streaming")
            return
        }
        #expect(streamed !== first && !streamed.isSnapshot)

        // Written in place (longer), then replaced with the same bytes: read again each time.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("#EXT-X-COMMENT\n".utf8))
        try handle.close()
        guard case .success(let appended) = OpenFile.open(path: path, wholeUpTo: 1 << 20, reusing: first) else {
            Issue.record("not opened after the write")
            return
        }
        #expect(appended !== first && appended.size == Self.content.count + 15)
        try Data(Self.content).write(to: URL(fileURLWithPath: path), options: .atomic)
        guard case .success(let replaced) = OpenFile.open(path: path, wholeUpTo: 1 << 20, reusing: appended) else {
            Issue.record("not opened after the replacement")
            return
        }
        #expect(replaced !== appended && replaced.contents.map { Array($0.readableBytesView) } == Self.content)
    }

    /// A copy is made only when bytes and copy together fit in what is read whole (the cache's
    /// largest entry); an entry costing more than the whole cache is not kept, and does not
    /// push out the entries already there.
    @Test func sealedCopiesAndLargeEntriesFitTheCache() throws {
        let root = try Fixtures.temporaryDirectory("kerf-sealed-cache")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = FileCache(capacity: 1 << 20)
        for (name, size) in [("small.m3u8", 100), ("half.m4s", 600_000), ("whole.m4s", (1 << 20) - 100)] {
            try Data(repeating: 7, count: size).write(to: root.appendingPathComponent(name))
        }
        func open(_ name: String) throws -> ServedFile {
            guard case .success(let file) = OpenFile.open(path: root.appendingPathComponent(name).path, wholeUpTo: cache.largestEntry,
                                                          sealFrom: 128 * 1024) else { throw CommandError(message: "cannot open \(name)") }
            return ServedFile(file: file, path: Substring(name), configuration: OriginConfiguration())
        }
        let small = try open("small.m3u8"), half = try open("half.m4s"), whole = try open("whole.m4s")
        #expect(half.file.isSnapshot && half.file.sealed == nil, "600 KB and its copy do not fit in 1 MiB")
        #expect(whole.file.isSnapshot && whole.file.sealed == nil)
        cache.store("small.m3u8", small)
        cache.store("whole.m4s", whole)
        #expect(cache.lookup("whole.m4s") == nil)
        #expect(cache.lookup("small.m3u8") === small)
        cache.store("half.m4s", half)
        #expect(cache.lookup("half.m4s") === half && cache.lookup("small.m3u8") === small)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        guard case .failure(let failure) = self else { return nil }
        return failure
    }
}
