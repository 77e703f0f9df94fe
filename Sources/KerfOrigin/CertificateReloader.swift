import Logging
import ServiceLifecycle
import UnixSignals

/// Reads the TLS certificate and key again on each SIGHUP (as nginx does on its reload): new
/// connections get the new certificate, open ones are not disturbed. A chain or key that cannot
/// be used is logged and the current one stays.
struct CertificateReloader: Service {
    let certificate: ServerCertificate
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try certificate.reload()
                logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(certificate.settings.certificateChain)"])
            } catch let error as OriginError {
                logger.error("TLS certificate not reloaded, the current one stays: \(error.oneLine)")
            }
        }
    }
}
