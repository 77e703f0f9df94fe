import Yams

/// The `tls:` settings: HTTPS with a certificate chain and its private key (PEM files, read
/// again on SIGHUP), HTTP/2 and HTTP/1.1 offered by ALPN.
extension OriginConfiguration {
    public struct TLS: Sendable, Equatable {
        /// The PEM file of the server certificate followed by its intermediates (nginx's
        /// `ssl_certificate`).
        public var certificateChain: String
        /// The PEM file of the certificate's private key (nginx's `ssl_certificate_key`).
        public var privateKey: String
        /// `host:port` of a TLS listener beside the plain `listen:` one; nil: `listen:` itself
        /// serves HTTPS only.
        public var listen: String?

        public init(certificateChain: String, privateKey: String, listen: String? = nil) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.listen = listen
        }
    }

    static let tlsKeys: Set<String> = ["certificate", "key", "listen"]

    /// Reads a `tls:` mapping.
    /// - Throws: `OriginError` naming the setting that is unknown, missing or not a string.
    static func tls(_ node: Node, _ key: String, _ fail: (String, String) -> OriginError) throws -> TLS {
        guard let mapping = node.mapping else { throw fail(key, "must be a mapping (certificate, key, listen)") }
        var settings: [String: String] = [:]
        for (nameNode, value) in mapping {
            guard let name = nameNode.string, tlsKeys.contains(name) else {
                throw fail("\(key).\(nameNode.string ?? "?")", "unknown key (known: \(tlsKeys.sorted().joined(separator: ", ")))")
            }
            settings[name] = try string(value, "\(key).\(name)", fail)
        }
        guard let certificate = settings["certificate"] else { throw fail("\(key).certificate", "is required (the PEM certificate chain)") }
        guard let privateKey = settings["key"] else { throw fail("\(key).key", "is required (the PEM private key)") }
        let tls = TLS(certificateChain: certificate, privateKey: privateKey, listen: settings["listen"])
        if let listen = tls.listen { _ = try address(listen, key: "\(key).listen") }
        return tls
    }

    /// The host and port of the separate TLS listener (`tls.listen`), when there is one.
    public func tlsListenAddress() throws -> (host: String, port: Int)? {
        guard let listen = tls?.listen else { return nil }
        return try Self.address(listen, key: "tls.listen")
    }

    /// Whether `listen:` serves HTTPS (a `tls:` block without a listener of its own).
    public var listenIsSecure: Bool { tls != nil && tls?.listen == nil }
}
