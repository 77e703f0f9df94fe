import Foundation
import Testing
import KerfTestSupport
@testable import KerfMedia
import KerfSystem
import KerfTestTags

@Suite(.tags(.unit)) struct ByteSinkTests {
    /// A gathering write puts every buffer in order, skips empty ones, and spans more buffers
    /// than one `writev` call takes.
    @Test func gatheringWriteKeepsOrderAcrossManyBuffers() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-sink")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.bin").path
        let sink = try FileByteSink(path: path)
        let chunks: [[UInt8]] = (0..<(BlockingIO.maximumVectors * 2 + 7)).map { index in
            index % 5 == 0 ? [] : (0..<(index % 300)).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) }
        }
        try [UInt8]([1, 2, 3]).withUnsafeBytes { try sink.write($0) }
        try Buffers.with(chunks) { try sink.write(gathering: $0) }
        try sink.write(gathering: [])
        let expected: [UInt8] = [1, 2, 3] + chunks.flatMap { $0 }
        #expect(sink.position == Int64(expected.count))
        try sink.close()
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == expected)
    }

    /// Short writes resume inside the buffer they stopped in, EINTR retries, and a call that
    /// writes nothing is a `MediaError` naming the file rather than a loop.
    @Test func shortWritesResumeWhereTheyStopped() throws {
        let chunks: [[UInt8]] = [[1, 2, 3, 4, 5], [6], [7, 8, 9, 10, 11, 12, 13], [14, 15]]
        var received: [UInt8] = []
        var answers = [1, 7, -1, 3, 100]
        let written = try Buffers.with(chunks) { buffers in
            try FileByteSink.writeAll(buffers, file: "test") { pointer, count in
                let answer = answers.removeFirst()
                guard answer > 0 else { errno = EINTR; return -1 }
                // Take up to `answer` bytes from the vectors offered, as a kernel would.
                var left = answer
                for vector in UnsafeBufferPointer(start: pointer, count: Int(count)) where left > 0 {
                    let take = min(left, vector.iov_len)
                    received += UnsafeRawBufferPointer(start: vector.iov_base, count: take)
                    left -= take
                }
                return answer - left
            }
        }
        #expect(written == 15)
        #expect(received == chunks.flatMap { $0 })
        #expect(answers == [])
        let stuck = #expect(throws: MediaError.self) {
            try Buffers.with([[1, 2, 3, 4]]) { try FileByteSink.writeAll($0, file: "test") { _, _ in 0 } }
        }
        #expect(stuck?.code == .io)
        #expect(stuck?.file == "test")
        let full = #expect(throws: MediaError.self) {
            try Buffers.with([[1]]) { try FileByteSink.writeAll($0, file: "test") { _, _ in errno = ENOSPC; return -1 } }
        }
        #expect(full?.oneLine == "test: cannot write file: writev: No space left on device")
    }

    /// Several packets' payloads are handed over in order, each with its own size.
    @Test func packetsGiveTheirBytesTogether() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        var packets: [Packet] = []
        for _ in 0..<10 {
            let packet = Packet()
            guard try input.read(into: packet) == .packet else { break }
            packets.append(packet)
        }
        #expect(packets.count == 10)
        let together = Packet.withUnsafeBytes(of: packets) { $0.map { Array($0) } }
        #expect(together == packets.map(\.bytes))
        #expect(Packet.withUnsafeBytes(of: []) { $0.count } == 0)
    }
}
