internal import CKerfSystem
#if canImport(Glibc)
import Glibc
#endif

extension SystemFile {
    /// A sealed in-memory file holding a copy of `bytes` (`memfd_create`, then sealed against
    /// writes, growing and shrinking): a snapshot that `sendfile` can send without a copy through
    /// user memory and that nothing can change. Its pages are shared memory, not the process's
    /// heap. The caller closes it.
    /// - Parameter name: shown in `/proc/<pid>/fd` (for people looking at the process).
    /// - Throws: `SystemError` from `memfd_create`, `write` or `fcntl` (EMFILE, ENOMEM).
    public static func sealedCopy(of bytes: UnsafeRawBufferPointer, name: String) throws(SystemError) -> SystemFile {
        var failedCall: UnsafePointer<CChar>?
        let descriptor = kerf_sealed_copy(name, bytes.baseAddress, bytes.count, &failedCall)
        guard descriptor >= 0 else {
            throw SystemError(errno: errno, call: failedCall.map { String(cString: $0) } ?? "memfd_create", path: name)
        }
        return SystemFile(rawValue: descriptor, path: name)
    }
}
