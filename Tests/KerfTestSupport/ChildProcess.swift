import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program started with `posix_spawn` for a test, inheriting nothing but the standard streams
/// it is given.
///
/// Foundation's `Process` lists the descriptors to close in the child before it spawns, so a
/// pipe or socket another thread opens in between (another `Process` starting) leaks into the
/// child. A test that starts a player for 30 s while it polls with curl then waits those 30 s
/// for curl's output to end: the player holds curl's pipe open. Here every descriptor the
/// parent makes is close-on-exec and the child closes all descriptors above 2 before it runs
/// (`posix_spawn_file_actions_addclosefrom_np`). Children start with no blocked signals and
/// default dispositions (the test runner's threads block some), as leaders of process groups
/// of their own (so a browser can be killed with its helpers).
public final class ChildProcess: @unchecked Sendable {
    /// Where a standard stream of the child goes.
    public enum Stream {
        /// `/dev/null`.
        case null
        /// A pipe whose other end the parent holds (`stdin`, `stdout`, `stderr` below).
        case pipe
        /// An open descriptor of the parent (the child gets a copy).
        case descriptor(Int32)
        /// Wherever the child's stdout goes (for stderr).
        case sameAsStdout
    }

    public let processIdentifier: pid_t
    /// The parent's ends of the pipes asked for (nil for the streams that are not pipes).
    public let stdin: FileHandle?, stdout: FileHandle?, stderr: FileHandle?
    private let lock = NSLock()
    /// The raw wait status once the program has exited and been reaped.
    private var status: Int32?

    /// Starts `executable` (looked up in PATH when it has no slash) with `arguments`;
    /// `environment` is added to this process's.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                stdin: Stream = .null, stdout: Stream = .null, stderr: Stream = .null) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        defer { for descriptor in childEnds { close(descriptor) } }
        var parentEnds: [FileHandle?] = []
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw CommandError(message: "cannot open /dev/null: errno \(errno)") }
        childEnds.append(null)
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .null:
                posix_spawn_file_actions_adddup2(&actions, null, target)
                parentEnds.append(nil)
            case .descriptor(let descriptor):
                posix_spawn_file_actions_adddup2(&actions, descriptor, target)
                parentEnds.append(nil)
            case .sameAsStdout:
                posix_spawn_file_actions_adddup2(&actions, 1, target)
                parentEnds.append(nil)
            case .pipe:
                var ends: [Int32] = [-1, -1]
                // Close-on-exec at once (children of this class close everything above 2 anyway;
                // Swift's Glibc module does not declare pipe2).
                guard pipe(&ends) == 0 else {
                    parentEnds.compactMap { $0 }.forEach { try? $0.close() }
                    throw CommandError(message: "pipe failed: errno \(errno)")
                }
                guard fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else {
                    let error = errno
                    ends.forEach { close($0) }
                    parentEnds.compactMap { $0 }.forEach { try? $0.close() }
                    throw CommandError(message: "fcntl(FD_CLOEXEC) failed: errno \(error)")
                }
                // The child reads its stdin from the read end and writes the others.
                let (child, parent) = target == 0 ? (ends[0], ends[1]) : (ends[1], ends[0])
                posix_spawn_file_actions_adddup2(&actions, child, target)
                childEnds.append(child)
                parentEnds.append(FileHandle(fileDescriptor: parent, closeOnDealloc: true))
            }
        }
        Self.closeFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0)=\($1)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            parentEnds.compactMap { $0 }.forEach { try? $0.close() }
            throw CommandError(message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        processIdentifier = pid
        (self.stdin, self.stdout, self.stderr) = (parentEnds[0], parentEnds[1], parentEnds[2])
    }

    /// True until the program has exited (and been reaped).
    public var isRunning: Bool {
        lock.withLock {
            reapIfExited()
            return status == nil
        }
    }

    /// Blocks until the program has exited.
    public func waitUntilExit() {
        if lock.withLock({ status != nil }) { return }
        // Waits for the exit without reaping (WNOWAIT), so the pid stays this child's until it
        // is reaped under the lock: `isRunning` and `kill` never see a child that is gone but
        // not yet recorded, and never signal a pid the kernel may have reused.
        var info = siginfo_t()
        while waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        lock.withLock { reapIfExited() }
    }

    /// The exit code, or the number of the signal that ended the program (as Foundation's
    /// `Process.terminationStatus`). Waits for the exit.
    public var terminationStatus: Int32 {
        waitUntilExit()
        let raw = lock.withLock { status ?? 0 }
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    /// Sends `signal` to the program (when it still runs), or with `group` to its whole process
    /// group (whose other members may outlive it).
    public func kill(_ signal: Int32 = SIGKILL, group: Bool = false) {
        lock.withLock {
            reapIfExited()
            guard status == nil else { return }
            _ = group ? Glibc.kill(-processIdentifier, signal) : Glibc.kill(processIdentifier, signal)
        }
    }

    /// Records the exit status if the program has exited (with the lock held). A child reaped
    /// by someone else (ECHILD) counts as exited with status 255.
    private func reapIfExited() {
        guard status == nil else { return }
        var raw: Int32 = 0
        let reaped = waitpid(processIdentifier, &raw, WNOHANG)
        if reaped == processIdentifier {
            status = raw
        } else if reaped == -1 && errno == ECHILD {
            status = 255 << 8
        }
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34), looked up at run time: Swift's
    /// Glibc module does not declare it.
    private static func closeFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, lowest)
    }
}
