import Foundation
import KerfTestSupport
import KerfTestTags
import Synchronization
import Testing
@testable import KerfOrigin

/// `kerf serve` as a process with `tls:`: certificate files it cannot use stop it at start with
/// one line and exit status 2; SIGHUP makes it read them again, new connections get the new
/// certificate while a connection opened before keeps working with the old one.
@Suite(.serialized, .tags(.integration)) struct ServeTLSProcessTests {
    static func configuration(_ folder: URL, root: URL, tls: OriginConfiguration.TLS) throws -> String {
        let file = folder.appendingPathComponent("kerf.yaml")
        try """
            root: \(root.path)
            listen: 127.0.0.1:0
            tls:
              certificate: \(tls.certificateChain)
              key: \(tls.privateKey)

            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func unusableCertificatesStopTheServerWithOneLine() async throws {
        let certificates = try await TestCertificates.make()
        let root = try Fixtures.temporaryDirectory("kerf-tls-root")
        let good = try await certificates.server("localhost")
        let other = try await certificates.server("other", serial: 4)
        let cases: [(OriginConfiguration.TLS, String)] = [
            (.init(certificateChain: "/nonexistent/chain.pem", privateKey: good.privateKey), "cannot read the certificate chain"),
            (.init(certificateChain: good.certificateChain, privateKey: "/nonexistent/key.pem"), "cannot read the private key"),
            (.init(certificateChain: good.privateKey, privateKey: good.privateKey), "cannot read the certificate chain"),
            (.init(certificateChain: good.certificateChain, privateKey: good.certificateChain), "cannot read the private key"),
            (.init(certificateChain: good.certificateChain, privateKey: other.privateKey), "cannot use the certificate with the private key"),
        ]
        for (tls, message) in cases {
            let config = try Self.configuration(certificates.folder, root: root, tls: tls)
            let result = try await Command.runDetached(Fixtures.kerf, ["serve", "--config", config])
            #expect(result.status == 2, "\(message): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let missingKey = certificates.folder.appendingPathComponent("missing-key.yaml")
        try "tls:\n  certificate: \(good.certificateChain)\n".write(to: missingKey, atomically: true, encoding: .utf8)
        let result = try await Command.runDetached(Fixtures.kerf, ["serve", "--config", missingKey.path])
        #expect(result.status == 2 && result.stderr.contains("tls.key: is required"), "\(result.stderr)")
    }

    @Test func sighupReloadsTheCertificateForNewConnections() async throws {
        let certificates = try await TestCertificates.make()
        let root = try Fixtures.temporaryDirectory("kerf-tls-root")
        let first = try await certificates.server("kerf-first")
        let second = try await certificates.server("kerf-second", serial: 5)
        // The files the configuration names: the first certificate now, the second after SIGHUP.
        let live = OriginConfiguration.TLS(certificateChain: certificates.folder.appendingPathComponent("serving-chain.pem").path,
                                           privateKey: certificates.folder.appendingPathComponent("serving.key").path)
        func install(_ tls: OriginConfiguration.TLS) throws {
            for (from, to) in [(tls.certificateChain, live.certificateChain), (tls.privateKey, live.privateKey)] {
                try? FileManager.default.removeItem(atPath: to + ".new")
                try FileManager.default.copyItem(atPath: from, toPath: to + ".new")
                _ = rename(to + ".new", to)
            }
        }
        try install(first)
        let config = try Self.configuration(certificates.folder, root: root, tls: live)
        let server = try BackgroundProcess("sh", ["-c", "exec \"$0\" \"$@\" 2>&1", Fixtures.kerf, "serve", "--config", config])
        defer { server.stop() }
        let line = try #require(server.readLine())
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "\(line)")
        #expect(line.hasPrefix("kerf serve: https://127.0.0.1:"), "\(line)")

        func subject() async throws -> String? {
            let result = try await Command.runDetached("sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) -CAfile \"$0\" -verify_return_error </dev/null 2>&1",
                                                              certificates.root])
            return result.stdout.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init)
        }
        #expect(try await subject() == "subject=CN = kerf-first")
        let old = try TLSClient(port: port, root: certificates.root)
        defer { old.stop() }
        #expect(try await old.get("/healthz").hasSuffix("ok\n"))

        try install(second)
        kill(server.process.processIdentifier, SIGHUP)
        _ = try await waitFor("a new connection to get the new certificate", timeout: .seconds(20)) {
            try await subject() == "subject=CN = kerf-second" ? true : nil
        }
        #expect(server.process.isRunning)
        // The connection opened before the reload still answers, with the certificate it began with.
        #expect(try await old.get("/healthz").hasSuffix("ok\n"))
        #expect(old.output.contains("subject=CN = kerf-first") && !old.output.contains("kerf-second"))
    }
}

/// One TLS connection held open by `openssl s_client`, HTTP/1.1 requests written to it by hand.
final class TLSClient: @unchecked Sendable {
    private let process: ChildProcess
    private let received = Received()

    /// What the reader thread has collected.
    private final class Received: Sendable {
        let text = Mutex("")
    }

    init(port: Int, root: String) throws {
        process = try ChildProcess("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", root, "-verify_return_error",
                                                        "-ign_eof", "-alpn", "http/1.1"], stdin: .pipe, stdout: .pipe, stderr: .sameAsStdout)
        // Read on a thread of its own until end of file, not with a readability handler: that
        // is a Dispatch source on the pipe, which must be cancelled before the descriptor is
        // closed, and one left registered corrupts Dispatch's event loop for the whole process.
        guard let reader = process.stdout else { throw CommandError(message: "openssl s_client has no output pipe") }
        Thread.detachNewThread { [received] in
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                received.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
    }

    /// What the connection printed so far (certificate details, then answers).
    var output: String { received.text.withLock { $0 } }

    /// Sends a GET on the connection and returns the answer once its body (`ok`) has arrived.
    func get(_ path: String) async throws -> String {
        let start = received.text.withLock { $0.utf8.count }
        process.stdin?.write(Data("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        return try await waitFor("the answer to \(path)", timeout: .seconds(20), poll: .milliseconds(50)) {
            let answer = String(output.utf8.dropFirst(start)) ?? ""
            return answer.contains("HTTP/1.1 200") && answer.hasSuffix("ok\n") ? answer : nil
        }
    }

    /// Kills the client with SIGKILL; its output then ends and the reader thread with it.
    func stop() {
        process.kill()
        process.waitUntilExit()
    }
}
