import FoundationEssentials
import NIOSSL
import Synchronization

/// The TLS context new connections are served with: the certificate chain and private key of
/// `tls:`, ALPN offering `h2` then `http/1.1`. `reload()` reads the files again (SIGHUP): new
/// connections get the new certificate, connections already open keep the one they began with.
final class ServerCertificate: Sendable {
    let settings: OriginConfiguration.TLS
    private let context: Mutex<NIOSSLContext>

    /// ALPN protocols, in the server's order of preference.
    static let applicationProtocols = ["h2", "http/1.1"]

    /// - Throws: `OriginError` (code `certificate`) naming the file that cannot be read or used.
    init(_ settings: OriginConfiguration.TLS) throws {
        self.settings = settings
        context = Mutex(try Self.makeContext(settings))
    }

    /// The context a new connection starts with.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the certificate chain and key again; on an error the current ones stay in use.
    /// - Throws: `OriginError` (code `certificate`).
    func reload() throws {
        let fresh = try Self.makeContext(settings)
        context.withLock { $0 = fresh }
    }

    private static func makeContext(_ settings: OriginConfiguration.TLS) throws -> NIOSSLContext {
        func fail(_ message: String, _ reason: String, _ file: String) -> OriginError {
            OriginError(.certificate, message, reason: reason, file: file)
        }
        for (file, what) in [(settings.certificateChain, "certificate chain"), (settings.privateKey, "private key")]
        where !FileManager.default.isReadableFile(atPath: file) {
            let exists = FileManager.default.fileExists(atPath: file)
            throw fail("cannot read the \(what)", exists ? "not readable" : "no such file", file)
        }
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(settings.certificateChain) } catch {
            throw fail("cannot read the certificate chain", "not a PEM certificate", settings.certificateChain)
        }
        guard !chain.isEmpty else { throw fail("cannot read the certificate chain", "no certificate in the file", settings.certificateChain) }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: settings.privateKey, format: .pem) } catch {
            throw fail("cannot read the private key", "not a PEM private key (an encrypted key must be decrypted first)", settings.privateKey)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = applicationProtocols
        configuration.minimumTLSVersion = .tlsv12
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw fail("cannot use the certificate with the private key", "the key does not belong to the certificate (\(error))", settings.privateKey)
        }
    }
}
