import ArgumentParser
import FoundationEssentials
import KerfOrigin
import KerfSystem
import Logging

/// `kerf serve`: the HTTP origin.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve packaged presentations over HTTP, as an origin for CDNs.",
        discussion: """
            Package directories under the root folder are served at /vod/<package>/…, with byte \
            ranges, ETag/Last-Modified validators, conditional GET, CORS, gzip for manifests and \
            Cache-Control headers a CDN can trust (segments immutable for a year, manifests \
            --vod-manifest-max-age). Live channels of the configuration (channels:) are pulled \
            from their input and served at /live/<channel>/master.m3u8 and manifest.mpd. \
            /healthz answers ok, /time the server's clock (DASH UTCTiming), /metrics Prometheus \
            metrics, / lists channels and packages. With tls: in the configuration it serves \
            HTTPS (HTTP/2 and HTTP/1.1 by ALPN) and reads the certificate again on SIGHUP. Stops \
            gracefully on SIGTERM or SIGINT.
            """
    )

    @Option(help: "A YAML configuration file (every key has a default).")
    var config: String?

    @Option(help: "The folder of package directories to serve (overrides root: in the configuration).")
    var root: String?

    @Option(help: "host:port to listen on (overrides listen:; default 127.0.0.1:8080).")
    var listen: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.bootstrapLogging()
        // Thousands of connections need more descriptors than the usual soft limit.
        ProcessLimits.raiseOpenFiles()
        var settings = OriginConfiguration()
        if let config { settings = try OriginConfiguration.load(file: config) }
        if let root { settings.root = root }
        if let listen { settings.listen = listen }
        var logger = Logger(label: "kerf.serve")
        logger.logLevel = global.verbose ? .info : .notice
        let server = try OriginServer(configuration: settings, logger: logger)
        let root = settings.root, host = settings.listenHost, channels = settings.channels.keys.sorted()
        let pushChannels = Set(settings.channels.filter { $0.value.input == "rtmp" }.keys)
        let rtmpHost = (try? settings.rtmpAddress().host) ?? host
        let scheme = settings.listenIsSecure ? "https" : "http"
        let secureHost = (try? settings.tlsListenAddress()?.host) ?? host
        try await server.run(handlingSignals: true) { port in
            writeStandardError("kerf serve: \(scheme)://\(host):\(port)/ (packages from \(root)/ at /vod/<name>/master.m3u8, /vod/<name>/manifest.mpd)\n")
            for name in channels {
                writeStandardError("kerf serve: live channel \(name) at \(scheme)://\(host):\(port)/live/\(name)/master.m3u8 and manifest.mpd\n")
                if pushChannels.contains(name), let rtmp = server.rtmpPort {
                    writeStandardError("kerf serve: publish \(name) to rtmp://\(rtmpHost):\(rtmp)/live/\(name)?key=<key>\n")
                }
            }
        } onSecureRunning: { port in
            writeStandardError("kerf serve: https://\(secureHost):\(port)/ (HTTP/2 and HTTP/1.1, the same paths)\n")
        }
    }
}

extension OriginConfiguration {
    /// The host part of `listen`, for printing URLs.
    var listenHost: String { (try? listenAddress().host) ?? "127.0.0.1" }
}
