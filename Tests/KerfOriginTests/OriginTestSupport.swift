import AsyncHTTPClient
import Foundation
import KerfTestSupport
import Logging
import NIOCore
import Testing
import KerfTestTags
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP

/// A `kerf serve` origin running in-process on a free port for the length of a test.
final class RunningOrigin: @unchecked Sendable {
    let task: Task<Void, Error>
    let port: Int
    /// The port of `tls.listen`, when the configuration has one.
    let securePort: Int?
    let server: OriginServer
    var base: String { "\(server.configuration.listenIsSecure ? "https" : "http")://127.0.0.1:\(port)" }

    init(_ configuration: OriginConfiguration) async throws {
        var configuration = configuration
        configuration.listen = "127.0.0.1:0"
        if configuration.tls?.listen != nil { configuration.tls?.listen = "127.0.0.1:0" }
        let server = try OriginServer(configuration: configuration, logger: Logger(label: "test"))
        self.server = server
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let (secure, secureContinuation) = AsyncStream.makeStream(of: Int.self)
        task = Task { try await server.run { continuation.yield($0) } onSecureRunning: { secureContinuation.yield($0) } }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CommandError(message: "the origin did not start") }
        self.port = port
        var secureIterator = secure.makeAsyncIterator()
        securePort = configuration.tls?.listen == nil ? nil : await secureIterator.next()
    }

    /// Stops the server and waits until it has shut down.
    func stop() async {
        task.cancel()
        _ = await task.result
    }

    deinit { task.cancel() }
}

/// Runs curl (a client nobody here wrote) and returns the status code, headers and body.
func curl(_ arguments: [String]) async throws -> (status: Int, headers: [String: String], body: Data) {
    let dir = try Fixtures.temporaryDirectory("kerf-curl")
    defer { try? FileManager.default.removeItem(at: dir) }
    let headerFile = dir.appendingPathComponent("h").path, bodyFile = dir.appendingPathComponent("b").path
    let result = try await Command.runDetached("curl", ["-s", "-g", "--path-as-is", "--max-time", "60", "-D", headerFile, "-o", bodyFile] + arguments)
    guard result.status == 0 else { throw CommandError(message: "curl failed: \(result.stderr)") }
    let lines = try String(contentsOfFile: headerFile, encoding: .utf8).components(separatedBy: "\r\n")
    let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return (status, headers, (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data())
}

/// A VOD root for origin tests.
enum OriginRoot {
    /// A root with one Kerf package (HLS + DASH) and a file outside it that must never be served.
    static func make() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("kerf-origin")
        try "secret".write(to: dir.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        let root = dir.appendingPathComponent("root")
        #expect(try Command.run(Fixtures.kerf, ["package", Fixtures.path("h264_aac_10s.mp4"), "-o", root.appendingPathComponent("demo").path,
                                                "--formats", "hls,dash", "--segment-duration", "2"]).status == 0)
        // A symbolic link inside the root that leads outside it.
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("demo/escape.txt").path,
                                                   withDestinationPath: dir.appendingPathComponent("secret.txt").path)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("up").path, withDestinationPath: dir.path)
        return root
    }

    /// `make()` served by an origin with the default configuration.
    static func serve() async throws -> (root: URL, origin: RunningOrigin) {
        let root = try make()
        var configuration = OriginConfiguration()
        configuration.root = root.path
        return (root, try await RunningOrigin(configuration))
    }
}
