#if canImport(Glibc)
import Glibc
#endif

/// The one place a system call's result passes through, with one policy:
///
/// - EINTR: the call is made again (a signal interrupted it before it did anything);
/// - EAGAIN/EWOULDBLOCK: reported as `.wouldBlock`, a value, never an error;
/// - any other errno: thrown as a `SystemError` naming the call and the path.
///
/// Loops over short transfers are built on it in `BlockingIO`.
public enum SystemCall {
    /// Makes `body` (one system call returning -1 with errno set on failure) until it is not
    /// interrupted.
    /// - Parameters:
    ///   - call: the system call's name, for errors ("read", "pwrite").
    ///   - path: the file concerned, for errors.
    /// - Returns: `.processed(result)`, or `.wouldBlock(0)` on EAGAIN/EWOULDBLOCK.
    /// - Throws: `SystemError` for every other errno.
    @inlinable
    public static func blocking<Result: FixedWidthInteger>(
        _ call: String, path: String? = nil, _ body: () -> Result
    ) throws(SystemError) -> IOResult<Result> {
        while true {
            let result = body()
            guard result == -1 else { return .processed(result) }
            let error = errno
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock(0)
            default: throw SystemError(errno: error, call: call, path: path)
            }
        }
    }

    /// `blocking` for calls on which EAGAIN is a failure rather than a state to wait out (open,
    /// fstat, fsync, rename, and transfers on regular files): EINTR retries, every other errno,
    /// EAGAIN included, is thrown.
    @inlinable
    public static func retrying<Result: FixedWidthInteger>(
        _ call: String, path: String? = nil, _ body: () -> Result
    ) throws(SystemError) -> Result {
        switch try blocking(call, path: path, body) {
        case .processed(let result): return result
        case .wouldBlock: throw SystemError(errno: EAGAIN, call: call, path: path)
        }
    }
}
