import Foundation

/// Runs an external program (the `kerf` binary under test, or an oracle such as ffprobe).
public struct Command {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutData: Data
    }

    /// Runs `executable` with `arguments`, waits, and captures both output streams.
    /// `executable` without a slash is looked up in PATH; `environment` is added to this process's.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let child = try ChildProcess(executable, arguments, environment: environment, stdout: .pipe, stderr: .pipe)
        // Read both pipes concurrently so a chatty child cannot block on a full pipe. The
        // reader is a thread of its own, not a job on Dispatch's global queue: that queue's few
        // threads (as many as cores) also run Swift's async tasks, an in-process origin's
        // handlers among them, and a dozen children blocking them would stall it.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        Thread.detachNewThread {
            errData = child.stderr?.readDataToEndOfFile() ?? Data()
            group.leave()
        }
        let outData = child.stdout?.readDataToEndOfFile() ?? Data()
        group.wait()
        return Result(status: child.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }

    /// `run` on a thread of its own: async tests that talk to an in-process server must not
    /// block the few threads of Swift's cooperative pool the server's handlers need.
    public static func runDetached(_ executable: String, _ arguments: [String]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try run(executable, arguments) })
            }
        }
    }

    /// True when `name` is found in PATH.
    public static func exists(_ name: String) -> Bool {
        (try? run("which", [name]).status) == 0
    }

    /// Runs ffprobe with JSON output and returns the parsed object.
    public static func ffprobe(_ arguments: [String]) throws -> [String: Any] {
        let result = try run("ffprobe", ["-v", "error", "-of", "json"] + arguments)
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] else {
            throw CommandError(message: "ffprobe \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return object
    }
}

public struct CommandError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// A program left running in the background for a test (an HTTP server, a live encoder), killed
/// when the value goes away.
public final class BackgroundProcess: @unchecked Sendable {
    public let process: ChildProcess

    /// Starts `executable` (looked up in PATH when it has no slash) with `arguments`; stderr is
    /// discarded, stdout can be read with `readLine()`. Its stdin is a pipe held open for the
    /// program's life: programs that watch stdin exit when the test process dies without
    /// stopping them.
    public init(_ executable: String, _ arguments: [String]) throws {
        process = try ChildProcess(executable, arguments, stdin: .pipe, stdout: .pipe)
    }

    /// The next line the program prints (nil at end of output).
    public func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let byte = process.stdout?.readData(ofLength: 1) ?? Data()
            guard let first = byte.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
    }

    /// Kills the program with SIGKILL and waits for it.
    public func stop() {
        process.kill()
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// `Tests/Scripts/http_fixture_server.py` serving `root` on a free loopback port.
public final class FixtureHTTPServer: @unchecked Sendable {
    public let server: BackgroundProcess
    public let port: Int
    public var base: String { "http://127.0.0.1:\(port)" }

    public init(root: String) throws {
        let script = Fixtures.root.appendingPathComponent("Tests/Scripts/http_fixture_server.py").path
        server = try BackgroundProcess("python3", [script, root])
        guard let line = server.readLine(), let port = Int(line) else {
            throw CommandError(message: "the fixture HTTP server did not start")
        }
        self.port = port
    }
}
