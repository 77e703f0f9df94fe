#if canImport(Glibc)
import Glibc
#endif

/// Limits of this process that a server raises for itself.
public enum ProcessLimits {
    /// Raises the soft limit on open files to the hard limit (a server holding thousands of
    /// connections needs more than the usual soft 1024), as nginx's `worker_rlimit_nofile`
    /// does. Returns the soft limit in effect afterwards.
    @discardableResult
    public static func raiseOpenFiles() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        guard limit.rlim_cur < limit.rlim_max else { return UInt64(limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 ? UInt64(raised.rlim_cur) : UInt64(limit.rlim_cur)
    }
}
