import Foundation
import KerfSystem
import KerfTestSupport
import KerfTestTags
import Testing

/// `Heap.trim` hands freed memory back to the kernel. Resident memory is the whole process's,
/// so the measurement runs in a test process of its own.
@Suite(.tags(.integration)) struct HeapTests {
    /// 200 MB allocated in small blocks (inside the heap, below the mmap threshold) and freed,
    /// with a block allocated after them pinning the heap's top: the resident memory stays high
    /// after free() and falls with the trim.
    @Test func trimReturnsFreedMemory() async throws {
        guard TestProcess.isAlone else {
            let run = try await TestProcess.runAlone(#"^KerfSystemTests\.HeapTests/trimReturnsFreedMemory\("#)
            let output = run.stdout + run.stderr
            #expect(run.status == 0, "\(output)")
            #expect(output.contains("Test run with 1 test") && output.contains("heap: "), "\(output)")
            return
        }
        let before = try #require(Heap.residentBytes())
        var blocks = (0..<200_000).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 1_000, alignment: 16) }
        for block in blocks { memset(block, 1, 1_000) }
        let pin = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        defer { pin.deallocate() }
        let full = try #require(Heap.residentBytes())
        #expect(full - before > 150_000_000, "\(full - before) bytes more after touching 200 MB")
        blocks.forEach { $0.deallocate() }
        blocks = []
        let freed = try #require(Heap.residentBytes())
        #expect(Heap.trim())
        let trimmed = try #require(Heap.residentBytes())
        print("heap: resident \(before >> 20) MiB, \(full >> 20) MiB in use, \(freed >> 20) MiB freed, \(trimmed >> 20) MiB trimmed")
        #expect(freed - trimmed > 100_000_000, "resident \(freed >> 20) MiB after free, \(trimmed >> 20) MiB after the trim")
    }
}
