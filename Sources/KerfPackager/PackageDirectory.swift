import FoundationEssentials
import KerfSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where a package is written: a staging directory beside the destination, published with one
/// atomic rename (or an atomic exchange with the previous package when replacing it).
///
/// Until `commit()` the destination is untouched, so an interrupted run (even SIGKILL) never
/// leaves a manifest naming a missing segment and never damages an earlier package. Staging
/// directories left by killed runs are removed by the next run for the same destination.
public final class PackageDirectory {
    public let destination: String
    public let staging: String
    private var committed = false

    /// - Parameter force: replace an existing package (or any non-empty directory).
    /// - Throws: `.outputExists` when the destination is a non-empty directory and `force` is
    ///   false; `.io` when the staging directory cannot be created.
    public init(destination: String, force: Bool) throws(PackagerError) {
        let fm = FileManager.default
        var path = destination
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.destination = path
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        if let isDirectory = PackageDirectory.entry(path) {
            guard isDirectory else {
                throw PackagerError(.outputExists, "output exists and is not a directory", file: path)
            }
            let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            if !contents.isEmpty && !force {
                throw PackagerError(.outputExists, "output directory is not empty",
                                    reason: "use --force to replace what is there", file: path)
            }
        }
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw PackagerError(.io, "cannot create output directory", reason: "\(error)", file: parent)
        }
        PackageDirectory.removeStale(parent: parent, name: name)
        staging = "\(parent)/.\(name).kerf-tmp-\(getpid())"
        try? fm.removeItem(atPath: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw PackagerError(.io, "cannot create staging directory", reason: "\(error)", file: staging)
        }
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(atPath: staging) }
    }

    /// The staging path of a file of the package, creating its folder.
    public func path(_ relative: String) throws(PackagerError) -> String {
        let full = "\(staging)/\(relative)"
        let folder = URL(fileURLWithPath: full).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw PackagerError(.io, "cannot create directory", reason: "\(error)", file: folder)
        }
        return full
    }

    /// Writes a whole file of the package.
    /// - Throws: `PackagerError` `.io` when the file cannot be created or written.
    public func write(_ relative: String, _ bytes: [UInt8]) throws(PackagerError) {
        let full = try path(relative)
        let file: SystemFile
        do throws(SystemError) { file = try .open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) } catch {
            throw PackagerError(error, "cannot create file")
        }
        defer { try? file.close() }
        do throws(SystemError) { try file.write(all: bytes) } catch { throw PackagerError(error, "cannot write file") }
    }

    public func write(_ relative: String, text: String) throws(PackagerError) {
        try write(relative, Array(text.utf8))
    }

    /// Publishes the package: the staging directory becomes the destination atomically.
    public func commit() throws(PackagerError) {
        let fm = FileManager.default
        if PackageDirectory.entry(destination) == true {
            // Swap old and new in one step; then remove the old package, now at the staging path.
            do throws(SystemError) { try FileSystem.exchange(staging, with: destination) } catch {
                throw PackagerError(error, "cannot replace output directory")
            }
            committed = true
            try? fm.removeItem(atPath: staging)
        } else {
            do throws(SystemError) { try FileSystem.rename(staging, to: destination) } catch {
                throw PackagerError(error, "cannot publish output directory")
            }
            committed = true
        }
    }

    /// `nil` when nothing is at `path`, else whether it is a directory (symlinks followed).
    static func entry(_ path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT == S_IFDIR
    }

    /// Removes staging directories of earlier runs for this destination whose process is gone.
    static func removeStale(parent: String, name: String) {
        let prefix = ".\(name).kerf-tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count)) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: "\(parent)/\(entry)")
            }
        }
    }
}
