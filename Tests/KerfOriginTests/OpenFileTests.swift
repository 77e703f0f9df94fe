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

extension Result {
    fileprivate var failure: Failure? {
        guard case .failure(let failure) = self else { return nil }
        return failure
    }
}
