internal import CKerfSystem
#if canImport(Glibc)
import Glibc
#endif

/// The process's malloc heap.
public enum Heap {
    /// Hands the free pages of every malloc arena back to the kernel. glibc keeps what a burst
    /// of work freed (thousands of connections' buffers, spread over the event loops' arenas)
    /// and returns only the top of each heap by itself, so a server's resident memory stays at
    /// its peak after the load has gone. Takes milliseconds on a large heap and holds each
    /// arena's lock meanwhile: call it off the event loops, after load has fallen.
    /// - Returns: true when memory was released.
    @discardableResult
    public static func trim() -> Bool {
        kerf_heap_trim() == 1
    }

    /// This process's resident memory in bytes (`/proc/self/statm`), nil when unreadable.
    public static func residentBytes() -> Int? {
        let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // "size resident shared text lib data dt", in pages.
        let fields = bytes[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }
}
