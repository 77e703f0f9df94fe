import Glibc
import KerfTestTags
import Testing
@testable import KerfSystem

/// The real system calls on a temporary file.
@Suite(.tags(.unit)) struct SystemFileTests {
    @Test func writesAndReadsBackAFile() throws {
        let path = "/tmp/kerf-system-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        let output = try SystemFile.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
        try output.write(all: [1, 2, 3])
        let tail: [UInt8] = Array(4...200)
        let written = try [UInt8]([]).withUnsafeBytes { empty in
            try tail.withUnsafeBytes { tail in try output.write(gathering: [empty, UnsafeRawBufferPointer(rebasing: tail[..<10]), UnsafeRawBufferPointer(rebasing: tail[10...])]) }
        }
        #expect(written == tail.count)
        try output.sync()
        try output.close()

        let input = try SystemFile.open(path, O_RDONLY | O_CLOEXEC)
        defer { try? input.close() }
        #expect(try input.status().st_size == 200)
        var buffer = [UInt8](repeating: 0, count: 10)
        #expect(try buffer.withUnsafeMutableBytes { try input.read(into: $0, at: 195) } == 5)
        #expect(Array(buffer.prefix(5)) == [196, 197, 198, 199, 200])
        var whole = [UInt8](repeating: 0, count: 300)
        #expect(try whole.withUnsafeMutableBytes { try input.read(into: $0) } == 200)
        #expect(Array(whole.prefix(200)) == Array(1...200))
    }

    @Test func openFailuresNameThePath() {
        let error = #expect(throws: SystemError.self) { try SystemFile.open("/nonexistent/kerf/file", O_RDONLY | O_CLOEXEC) }
        #expect(error?.code == "ENOENT")
        #expect(error?.path == "/nonexistent/kerf/file")
        #expect(error?.call == "open")
    }
}
