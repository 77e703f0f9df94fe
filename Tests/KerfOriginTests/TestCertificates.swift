import Foundation
import KerfTestSupport
@testable import KerfOrigin

/// A certificate authority made for one test with the openssl CLI: a root, an intermediate, and
/// server certificates for localhost and 127.0.0.1 issued by the intermediate. Clients trust
/// the root only, so the server must send its chain.
struct TestCertificates {
    let folder: URL
    /// The root certificate clients trust (PEM).
    var root: String { folder.appendingPathComponent("root.pem").path }

    static func make() async throws -> TestCertificates {
        let folder = try Fixtures.temporaryDirectory("kerf-tls")
        let certificates = TestCertificates(folder: folder)
        try await certificates.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                        "-keyout", "root.key", "-out", "root.pem", "-days", "2", "-subj", "/CN=Kerf Test Root"])
        try "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
            .write(to: folder.appendingPathComponent("intermediate.cnf"), atomically: true, encoding: .utf8)
        try await certificates.issue("Kerf Test Intermediate", file: "intermediate", by: "root", serial: 2, extensions: "intermediate.cnf")
        try "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(to: folder.appendingPathComponent("server.cnf"), atomically: true, encoding: .utf8)
        return certificates
    }

    /// A new server certificate with common name `name`: its chain file (the certificate, then
    /// the intermediate) and its key file.
    func server(_ name: String, serial: Int = 3) async throws -> OriginConfiguration.TLS {
        try await issue(name, file: name, by: "intermediate", serial: serial, extensions: "server.cnf")
        let chain = folder.appendingPathComponent("\(name)-chain.pem")
        let leaf = try String(contentsOf: folder.appendingPathComponent("\(name).pem"), encoding: .utf8)
        let intermediate = try String(contentsOf: folder.appendingPathComponent("intermediate.pem"), encoding: .utf8)
        try (leaf + intermediate).write(to: chain, atomically: true, encoding: .utf8)
        return .init(certificateChain: chain.path, privateKey: folder.appendingPathComponent("\(name).key").path)
    }

    private func issue(_ name: String, file: String, by issuer: String, serial: Int, extensions: String) async throws {
        try await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", "\(file).key", "-out", "\(file).csr", "-subj", "/CN=\(name)"])
        try await openssl(["x509", "-req", "-in", "\(file).csr", "-CA", "\(issuer).pem", "-CAkey", "\(issuer).key",
                           "-set_serial", String(serial), "-out", "\(file).pem", "-days", "2", "-extfile", extensions])
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await Command.runDetached("sh", ["-c", "cd \"$0\" && exec openssl \"$@\"", folder.path] + arguments)
        guard result.status == 0 else { throw CommandError(message: "openssl \(arguments.first ?? "") failed: \(result.stderr)") }
    }
}
