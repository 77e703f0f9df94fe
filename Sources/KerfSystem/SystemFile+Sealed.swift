internal import CKerfSystem
#if canImport(Glibc)
import Glibc
#endif

extension SystemFile {
    /// A sealed in-memory file holding a copy of `bytes` (`memfd_create`, written, then sealed
    /// against writes, growing and shrinking): a snapshot that `sendfile` can send without a
    /// copy through user memory and that nothing can change. Its pages are shared memory, not
    /// the process's heap. The caller closes it.
    /// - Parameter name: shown in `/proc/<pid>/fd` (for people looking at the process).
    /// - Throws: `SystemError` from `memfd_create`, `write` or `fcntl` (EMFILE, ENOMEM).
    public static func sealedCopy(of bytes: UnsafeRawBufferPointer, name: String) throws(SystemError) -> SystemFile {
        let file = SystemFile(rawValue: try SystemCall.retrying("memfd_create", path: name) { kerf_memfd_create(name) }, path: name)
        do throws(SystemError) {
            try file.write(all: bytes)
            _ = try SystemCall.retrying("fcntl", path: name) { kerf_seal_contents(file.rawValue) }
            return file
        } catch {
            try? file.close()
            throw error
        }
    }
}
