import Foundation
import Testing
import KerfTestSupport
@testable import KerfMedia

@Suite struct ByteSinkTests {
    /// A gathering write puts every buffer in order, skips empty ones, and spans more buffers
    /// than one `writev` call takes.
    @Test func gatheringWriteKeepsOrderAcrossManyBuffers() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-sink")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.bin").path
        let sink = try FileByteSink(path: path)
        let chunks: [[UInt8]] = (0..<(FileByteSink.maximumVectors * 2 + 7)).map { index in
            index % 5 == 0 ? [] : (0..<(index % 300)).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) }
        }
        try [UInt8]([1, 2, 3]).withUnsafeBytes { try sink.write($0) }
        try withPointers(chunks) { try sink.write(gathering: $0) }
        try sink.write(gathering: [])
        let expected: [UInt8] = [1, 2, 3] + chunks.flatMap { $0 }
        #expect(sink.position == Int64(expected.count))
        try sink.close()
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == expected)
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

    /// The chunks laid end to end in one allocation, handed over as one buffer per chunk.
    private func withPointers(_ chunks: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) throws -> Void) throws {
        let storage = chunks.flatMap { $0 }
        try storage.withUnsafeBytes { all in
            var offset = 0
            let buffers = chunks.map { chunk -> UnsafeRawBufferPointer in
                defer { offset += chunk.count }
                return UnsafeRawBufferPointer(rebasing: all[offset..<(offset + chunk.count)])
            }
            try body(buffers)
        }
    }
}
