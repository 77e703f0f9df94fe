internal import CKerfSystem
#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed: the errno it left, the call, and the path it concerned.
///
/// `code` is the stable part: errno's symbolic name ("ENOENT", "ENOSPC"), or `noProgressCode`
/// for a write that transferred nothing without reporting an error. `reason` is the C library's
/// text for errno (`strerror`), what error messages show.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The code of a write that returned 0 for a non-empty buffer: retrying would loop forever.
    public static let noProgressCode = "ENOPROGRESS"

    /// errno as the call left it; 0 for a call that made no progress (see `noProgress`).
    public var errno: Int32
    /// The system call that failed ("open", "pread", "writev").
    public var call: String
    /// The file the descriptor was opened from, when known.
    public var path: String?

    public init(errno: Int32, call: String, path: String? = nil) {
        self.errno = errno
        self.call = call
        self.path = path
    }

    /// A write that returned 0 although bytes were left to write.
    public static func noProgress(call: String, path: String?) -> SystemError {
        SystemError(errno: 0, call: call, path: path)
    }

    /// errno's symbolic name ("EIO"), `noProgressCode`, or "errno <n>" for a value glibc does
    /// not name.
    public var code: String {
        guard errno != 0 else { return Self.noProgressCode }
        return Self.name(of: errno)
    }

    /// `strerror`'s text ("No such file or directory"), or what a call without progress did.
    public var reason: String {
        guard errno != 0 else { return "the call wrote nothing" }
        return String(cString: strerror(errno))
    }

    /// `<call> <path>: <reason> (<code>)`.
    public var description: String {
        let target = path.map { "\(call) \($0)" } ?? call
        return "\(target): \(reason) (\(code))"
    }

    /// The symbolic name of an errno value ("ENOENT"), or "errno <n>".
    public static func name(of errno: Int32) -> String {
        guard let name = kerf_errno_name(errno) else { return "errno \(errno)" }
        return String(cString: name)
    }
}
