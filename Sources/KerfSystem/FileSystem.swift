#if canImport(Glibc)
import Glibc
#endif

/// File-system questions answered by system calls.
public enum FileSystem {
    /// The canonical absolute path of `path` (symbolic links, `.` and `..` resolved), nil when
    /// it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
