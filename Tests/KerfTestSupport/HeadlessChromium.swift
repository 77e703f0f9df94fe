import Foundation

/// Headless Chromium (Debian's `chromium` package) showing one page, for the browser tests.
/// `stop()` (and deinit) kills it with every process it started: it is started as the leader of
/// a process group of its own, and its renderer, GPU and utility processes stay in it.
public final class HeadlessChromium: @unchecked Sendable {
    /// `$KERF_CHROMIUM`, else `chromium` on PATH; nil when neither exists.
    public static var executable: String? {
        if let path = ProcessInfo.processInfo.environment["KERF_CHROMIUM"] { return path }
        let result = try? Command.run("which", ["chromium"])
        guard let result, result.status == 0 else { return nil }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public let process: ChildProcess
    /// Chromium's stdout and stderr.
    public let log: URL
    private let stopped = NSLock()
    private var killed = false

    /// Opens `url` in a new headless Chromium whose profile and log live in `scratch`, with
    /// `arguments` added to its command line. Throws when Chromium is not installed.
    public init(url: String, scratch: URL, arguments: [String] = []) throws {
        guard let chromium = Self.executable, FileManager.default.isExecutableFile(atPath: chromium) else {
            throw CommandError(message: "Chromium is not installed (\(Self.executable ?? "no chromium on PATH")), so the browser tests "
                                      + "cannot run: `make test-deps` installs Debian's chromium package (or set KERF_CHROMIUM to a Chromium binary)")
        }
        log = scratch.appendingPathComponent("chromium.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        process = try ChildProcess(chromium, [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--autoplay-policy=no-user-gesture-required", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=\(scratch.appendingPathComponent("chromium-profile").path)",
        ] + arguments + [url], stdout: .descriptor(output.fileDescriptor), stderr: .descriptor(output.fileDescriptor))
    }

    public var isRunning: Bool { process.isRunning }

    /// The last `lines` lines of Chromium's log.
    public func logTail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Kills Chromium's process group with SIGKILL and waits for the browser process.
    public func stop() {
        let group = process.processIdentifier
        let first = stopped.withLock { () -> Bool in
            defer { killed = true }
            return !killed
        }
        guard group > 0, first else { return }
        process.kill(SIGKILL, group: true)
        process.waitUntilExit()
    }

    deinit { stop() }
}

extension HeadlessChromium {
    /// Runs one of the browser tests' pages: copies `files` (from `Tests/Browser`) and the job
    /// (as `job.json`) into `site`, serves `site` over HTTP on 127.0.0.1 (a secure context),
    /// opens `<page>?job=job.json&report=/report/result` in headless Chromium and returns the
    /// JSON body the page POSTs to its report URL.
    public static func runPage(_ page: String, files: [String], job: [String: Any], site: URL, scratch: URL,
                               timeout: Duration, arguments: [String] = []) async throws -> Data {
        for file in [page] + files {
            try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("Tests/Browser/\(file)"), to: site.appendingPathComponent(file))
        }
        try JSONSerialization.data(withJSONObject: job).write(to: site.appendingPathComponent("job.json"))
        let server = try FixtureHTTPServer(root: site.path)
        defer { server.server.stop() }
        let browser = try HeadlessChromium(url: "\(server.base)/\(page)?job=job.json&report=/report/result", scratch: scratch,
                                           arguments: arguments)
        defer { browser.stop() }
        let report = site.appendingPathComponent("result.report.json")
        do {
            return try await waitFor("Chromium's report", timeout: timeout, poll: .milliseconds(200)) { () -> Data? in
                if let data = try? Data(contentsOf: report) { return data }
                guard browser.isRunning else {
                    throw CommandError(message: "Chromium exited before the page reported:\n\(browser.logTail())")
                }
                return nil
            }
        } catch let error as TimedOut {
            throw CommandError(message: "\(error); Chromium's log ends with:\n\(browser.logTail())")
        }
    }
}
