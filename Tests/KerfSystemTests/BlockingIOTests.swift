import Glibc
import KerfTestTags
import KerfTestSupport
import Testing
@testable import KerfSystem

/// Short transfers resume where they stopped; EINTR, EAGAIN and errors follow `SystemCall`.
@Suite(.tags(.unit)) struct BlockingIOTests {
    private let source: [UInt8] = Array(0..<100)

    /// A write call that takes at most the next answer's count of bytes (-1: fails with the
    /// next errno), recording what it took and at which offset.
    private final class FakeWriter {
        var answers: [Int]
        var errnos: [Int32]
        var received: [UInt8] = []
        var offsets: [Int] = []
        init(_ answers: [Int], errnos: [Int32] = []) { self.answers = answers; self.errnos = errnos }

        func write(_ rest: UnsafeRawBufferPointer, _ offset: Int) -> Int {
            offsets.append(offset)
            let answer = answers.removeFirst()
            guard answer >= 0 else { errno = errnos.removeFirst(); return -1 }
            let taken = min(answer, rest.count)
            received += rest.prefix(taken)
            return taken
        }
    }

    @Test func shortWritesResumeAndInterruptionsRetry() throws {
        let fake = FakeWriter([10, -1, 1, 50, 1000], errnos: [EINTR])
        let result = try source.withUnsafeBytes { bytes in
            try BlockingIO.writeAll(bytes, call: "write", path: "f", fake.write)
        }
        #expect(result == .processed(100))
        #expect(fake.received == source)
        #expect(fake.offsets == [0, 10, 10, 11, 61])
        #expect(fake.answers.isEmpty)
    }

    @Test func wouldBlockReportsTheProgressMade() throws {
        let fake = FakeWriter([30, -1], errnos: [EAGAIN])
        let result = try source.withUnsafeBytes { bytes in
            try BlockingIO.writeAll(bytes, call: "send", path: nil, fake.write)
        }
        #expect(result == .wouldBlock(30))
        #expect(fake.received == Array(source.prefix(30)))
    }

    @Test func aCallWritingNothingIsAnErrorNotALoop() {
        let fake = FakeWriter([5, 0])
        let error = #expect(throws: SystemError.self) {
            try source.withUnsafeBytes { bytes in try BlockingIO.writeAll(bytes, call: "write", path: "f", fake.write) }
        }
        #expect(error?.code == SystemError.noProgressCode)
        #expect(error?.path == "f")
    }

    @Test func errnoErrorsStopTheTransfer() {
        let fake = FakeWriter([20, -1, 80], errnos: [ENOSPC])
        let error = #expect(throws: SystemError.self) {
            try source.withUnsafeBytes { bytes in try BlockingIO.writeAll(bytes, call: "write", path: "disk", fake.write) }
        }
        #expect(error == SystemError(errno: ENOSPC, call: "write", path: "disk"))
        #expect(fake.answers == [80])
    }

    @Test func readsFillTheBufferOrStopAtTheEnd() throws {
        var answers = [7, -1, 13, 0]
        var offsets: [Int] = []
        var buffer = [UInt8](repeating: 0, count: 50)
        let result = try buffer.withUnsafeMutableBytes { buffer in
            try BlockingIO.readFully(into: buffer, call: "pread", path: "f") { rest, offset in
                offsets.append(offset)
                let answer = answers.removeFirst()
                guard answer >= 0 else { errno = EINTR; return -1 }
                for i in 0..<answer { rest[i] = UInt8(offset + i) }
                return answer
            }
        }
        #expect(result == .processed(20))
        #expect(offsets == [0, 7, 7, 20])
        #expect(Array(buffer.prefix(20)) == Array(0..<20))
    }

    @Test func readsReportWouldBlockAndErrors() throws {
        var buffer = [UInt8](repeating: 0, count: 8)
        var answers = [3, -1]
        let result = try buffer.withUnsafeMutableBytes { buffer in
            try BlockingIO.readFully(into: buffer, call: "recv", path: nil) { _, _ in
                let answer = answers.removeFirst()
                if answer < 0 { errno = EWOULDBLOCK }
                return answer
            }
        }
        #expect(result == .wouldBlock(3))
        let error = #expect(throws: SystemError.self) {
            try buffer.withUnsafeMutableBytes { buffer in
                try BlockingIO.readFully(into: buffer, call: "read", path: "dir") { _, _ in errno = EISDIR; return -1 }
            }
        }
        #expect(error?.code == "EISDIR")
    }

    /// A gathering write keeps order, skips empty buffers, resumes inside the buffer a short
    /// write stopped in, and offers at most `maximumVectors` buffers per call.
    @Test func gatheringWritesResumeInsideABuffer() throws {
        let chunks: [[UInt8]] = (0..<(BlockingIO.maximumVectors + 300)).map { index in
            index % 7 == 0 ? [] : (0..<(index % 5 + 1)).map { UInt8(truncatingIfNeeded: index &+ $0) }
        }
        var received: [UInt8] = []
        var answers = [1, -1, 6, 4000, 3, 100_000]
        var largest: Int32 = 0
        let result = try Buffers.with(chunks) { buffers in
            try BlockingIO.writeAll(gathering: buffers, call: "writev", path: "f") { vectors, count in
                largest = max(largest, count)
                let answer = answers.removeFirst()
                guard answer >= 0 else { errno = EINTR; return -1 }
                var left = answer
                for vector in UnsafeBufferPointer(start: vectors, count: Int(count)) where left > 0 {
                    let take = min(left, vector.iov_len)
                    received += UnsafeRawBufferPointer(start: vector.iov_base, count: take)
                    left -= take
                }
                return answer - left
            }
        }
        let expected = chunks.flatMap { $0 }
        #expect(result == .processed(expected.count))
        #expect(received == expected)
        #expect(largest == Int32(BlockingIO.maximumVectors))
        #expect(answers.count < 6)
    }

    @Test func gatheringWritesStallWouldBlockAndFail() throws {
        let chunks: [[UInt8]] = [[1, 2, 3], [4, 5]]
        let stalled = #expect(throws: SystemError.self) {
            try Buffers.with(chunks) { try BlockingIO.writeAll(gathering: $0, call: "writev", path: nil) { _, _ in 0 } }
        }
        #expect(stalled?.code == SystemError.noProgressCode)
        var answers = [4, -1]
        let blocked = try Buffers.with(chunks) { buffers in
            try BlockingIO.writeAll(gathering: buffers, call: "writev", path: nil) { _, _ in
                let answer = answers.removeFirst()
                if answer < 0 { errno = EAGAIN }
                return answer
            }
        }
        #expect(blocked == .wouldBlock(4))
        let failed = #expect(throws: SystemError.self) {
            try Buffers.with(chunks) { try BlockingIO.writeAll(gathering: $0, call: "writev", path: "p") { _, _ in errno = EBADF; return -1 } }
        }
        #expect(failed?.code == "EBADF")
        #expect(try Buffers.with([[], []]) { try BlockingIO.writeAll(gathering: $0, call: "writev", path: nil) { _, _ in -1 } } == .processed(0))
    }
}
