internal import CKerfSystem
#if canImport(Glibc)
import Glibc
#endif

/// File-system questions and changes answered by system calls.
public enum FileSystem {
    /// The canonical absolute path of `path` (symbolic links, `.` and `..` resolved), nil when
    /// it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Renames `from` to `to` atomically, replacing a file (or an empty folder) at `to`.
    /// - Throws: `SystemError` from `rename`, naming `to`.
    public static func rename(_ from: String, to: String) throws(SystemError) {
        _ = try SystemCall.retrying("rename", path: to) { Glibc.rename(from, to) }
    }

    /// Swaps two existing paths atomically (`renameat2` with `RENAME_EXCHANGE`, Linux 3.15+).
    /// - Throws: `SystemError` from `renameat2`, naming `to`.
    public static func exchange(_ from: String, with to: String) throws(SystemError) {
        _ = try SystemCall.retrying("renameat2", path: to) { kerf_rename_exchange(from, to) }
    }
}
