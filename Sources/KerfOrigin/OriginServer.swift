import KerfRTMP
import KerfLive
import FoundationEssentials
import Hummingbird
import HummingbirdCore
import KerfCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `kerf serve`: an HTTP origin (Hummingbird 2) for the package directories under a root folder
/// and the live channels of the configuration.
///
/// Routes: `/vod/<package>/<file>` (files, ranges, conditional GET), `/live/<channel>/…`
/// (playlists, MPD and segments from memory), `/healthz`, `/time` (an xs:dateTime for DASH
/// UTCTiming), `/` (a status page listing channels and packages).
public struct OriginServer: Sendable {
    public let configuration: OriginConfiguration
    /// The real path of the root folder.
    let root: String
    let logger: Logger
    let channels: [String: LiveChannel]
    /// The VOD files (and their cache), shared by the router and the fast path.
    let vod: VODResponder
    /// The RTMP ingest, when a channel is a push channel.
    let rtmp: RTMPServer?
    /// The TLS certificate and key (`tls:`), read when the server is made and on SIGHUP.
    let certificate: ServerCertificate?
    /// The answers the held-request gates write themselves when a publication releases them.
    let heldAnswers: HeldAnswers

    /// The Server header of every response.
    static let serverName = "kerf"
    /// Connections a listener accepts per turn of its event loop. NIO's default, 4, leaves a
    /// crowd of new connections waiting for seconds behind the traffic of the open ones, and
    /// their first requests with them.
    static let acceptsPerTurn: UInt = 256

    /// The port the RTMP ingest listens on, once `run()` has bound it (nil without push channels).
    public var rtmpPort: Int? { rtmp?.boundPort }

    /// - Throws: `OriginError` when the root is not a readable folder, the listen address is
    ///   malformed, or a channel asks for what is not served yet (live transcoding, RTMP push).
    public init(configuration: OriginConfiguration, logger: Logger) throws {
        guard let root = RequestPath.realPath(configuration.root) else {
            throw OriginError(.root, "root folder does not exist", file: configuration.root)
        }
        var status = stat()
        guard stat(root, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw OriginError(.root, "root is not a folder", file: configuration.root)
        }
        let archives = configuration.channels.compactMap { $0.value.archive.map { RequestPath.realPath($0) ?? $0 } }
        if Set(archives).count < archives.count {
            throw OriginError(.configuration, "two channels share one archive folder", reason: "give each channel its own archive:", file: "channels")
        }
        _ = try configuration.listenAddress()
        _ = try configuration.tlsListenAddress()
        certificate = try configuration.tls.map(ServerCertificate.init)
        // swift-metrics must have its backend before the first metric is made.
        _ = OriginMetrics.registry
        self.configuration = configuration
        self.root = root
        self.logger = logger
        vod = VODResponder(root: root, configuration: configuration)
        heldAnswers = HeldAnswers(cors: configuration.cors)
        var channels: [String: LiveChannel] = [:]
        for (name, channel) in configuration.channels {
            channels[name] = try LiveChannel(name: name, configuration: channel,
                                             metrics: ChannelMetrics(name: name, registry: OriginMetrics.registry), logger: logger)
        }
        self.channels = channels
        let pushChannels = PushChannels(channels)
        if pushChannels.isEmpty {
            rtmp = nil
        } else {
            _ = try configuration.rtmpAddress()
            var limits = RTMPServer.Limits()
            limits.maximumConnections = configuration.rtmpMaxPublishers
            limits.maximumBitRate = configuration.rtmpMaxBitRate
            rtmp = RTMPServer(authorizer: pushChannels, limits: limits, logger: logger)
        }
    }

    /// Serves until the task is cancelled or, with `handlingSignals`, until SIGTERM or SIGINT
    /// (graceful shutdown: connections in flight finish); with `handlingSignals` and `tls:`, reads
    /// the certificate and key again on SIGHUP.
    /// - Parameters:
    ///   - handlingSignals: take over SIGTERM, SIGINT and SIGHUP for the whole process (what
    ///     `kerf serve` does); a server embedded in another program (tests) leaves them alone.
    ///   - onRunning: called with the bound port of `listen:` once the server listens.
    ///   - onSecureRunning: called with the bound port of `tls.listen`, when there is one.
    public func run(handlingSignals: Bool = false,
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                    onSecureRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let (host, port) = try configuration.listenAddress()
        let live = LiveResponder(channels: channels), signer = configuration.tokenSecret.map(SignedURL.init)
        let maxURLLength = configuration.maxURLLength
        let lowLatency = channels.values.contains { $0.configuration.partDuration != nil }
        let answers = heldAnswers
        let gate: (@Sendable () -> HeldRequestGate)? = lowLatency
            ? { @Sendable in HeldRequestGate(live: live, signer: signer, maxURLLength: maxURLLength, answers: answers) } : nil
        let fastPath = VODResponder.hasFastPath(configuration) ? vod : nil
        let responder = RouterResponder(router: makeRouter(), serverName: Self.serverName, logger: logger), logger = logger
        func listener(_ initializer: @escaping OriginListener.Initializer, _ host: String, _ port: Int,
                      _ onRunning: @escaping @Sendable (Int) async -> Void) -> OriginListener {
            // A crowd of new connections (a popular live event starting) waits in the listen
            // queue while earlier ones are set up; one that finds the queue full has its SYN
            // dropped and retries a second later (listen-backlog, 4,096 unless set; the kernel
            // caps it at somaxconn).
            OriginListener(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton, backlog: Int32(configuration.listenBacklog),
                           acceptsPerTurn: Self.acceptsPerTurn, initializer: initializer, onRunning: onRunning, logger: logger)
        }
        var services: [any Service] = []
        // max-connections counts the connections of both listeners.
        let connections = ConnectionCount(limit: configuration.maxConnections)
        let plain = OriginHTTPChannel.initializer(configuration, responder: responder, connections: connections, fastPath: fastPath, gate: gate, logger: logger)
        if let certificate {
            let secure = OriginTLSChannel.initializer(configuration, certificate: certificate, responder: responder, connections: connections,
                                                      fastPath: fastPath, gate: gate, logger: logger)
            if let (secureHost, securePort) = try configuration.tlsListenAddress() {
                services.append(listener(plain, host, port, onRunning))
                services.append(listener(secure, secureHost, securePort, onSecureRunning))
            } else {
                services.append(listener(secure, host, port, onRunning))
            }
            if handlingSignals { services.append(CertificateReloader(certificate: certificate, logger: logger)) }
        } else {
            services.append(listener(plain, host, port, onRunning))
        }
        services.append(HeapTrimmer(connections: connections, logger: logger))
        // RTMP ingest for the push channels, on the same event loops.
        if let rtmp {
            let (rtmpHost, rtmpPort) = try configuration.rtmpAddress()
            let bound = try await rtmp.start(host: rtmpHost, port: rtmpPort)
            logger.notice("RTMP ingest listening", metadata: ["address": "\(rtmpHost):\(bound)"])
        }
        // Each channel's ingest blocks in libavformat reads: one thread each, off the event loops.
        let ingest = NIOThreadPool(numberOfThreads: max(1, channels.count))
        ingest.start()
        for channel in channels.values { ingest.submit { _ in channel.run() } }
        do {
            try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [], logger: logger)).run()
        } catch {
            await rtmp?.stop()
            await stopChannels(ingest)
            throw error
        }
        await rtmp?.stop()
        await stopChannels(ingest)
    }

    /// Reads the TLS certificate chain and key again (what SIGHUP does): connections opened
    /// afterwards get the new certificate, open ones keep theirs.
    /// - Throws: `OriginError` when they cannot be read or used (the current ones stay).
    public func reloadCertificate() throws {
        try certificate?.reload()
    }

    private func stopChannels(_ pool: NIOThreadPool) async {
        for channel in channels.values { channel.stop() }
        try? await pool.shutdownGracefully()
    }

    func makeRouter() -> Router<OriginRequestContext> {
        let router = Router(context: OriginRequestContext.self)
        router.add(middleware: GuardMiddleware(maxURLLength: configuration.maxURLLength, cors: configuration.cors))
        router.add(middleware: AdminAccessMiddleware(adminToken: configuration.adminToken.map { Array($0.utf8) }))
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: ByteCountMiddleware())
        let vod = self.vod
        let live = LiveResponder(channels: channels)
        let signer = configuration.tokenSecret.map(SignedURL.init)
        // Playback: /vod/… and /live/…, or /token/<expires>/<signature>/… when tokens are required.
        let playback: @Sendable (Request, OriginRequestContext) async throws -> Response = { request, context in
            let target = request.head.path ?? ""
            var path = target.prefix { $0 != "?" && $0 != "#" }
            if path.hasPrefix(SignedURL.prefix) {
                guard let signer else { return VODResponder.error(.notFound, "not found", maxAge: 10) }
                switch signer.verify(path, now: UTCTime.now()) {
                case .allowed(let plain): path = plain
                case .expired: return VODResponder.error(.forbidden, "the token has expired", maxAge: nil)
                case .invalid: return VODResponder.error(.forbidden, "the token is not valid for this path", maxAge: nil)
                }
            } else if signer != nil {
                return VODResponder.error(.forbidden, "a signed URL is required (/token/<expires>/<signature>/…)", maxAge: nil)
            }
            if path.hasPrefix("/vod/") { return try await vod.respond(to: request, raw: path.dropFirst("/vod/".count), pacedBy: context.channel) }
            if path.hasPrefix("/live/") { return await live.respond(to: request, raw: path.dropFirst("/live/".count)) }
            return VODResponder.error(.notFound, "not found", maxAge: 10)
        }
        for prefix in ["/vod/**", "/live/**", "/token/**"] {
            router.get(RouterPath(prefix), use: playback)
            router.head(RouterPath(prefix), use: playback)
        }
        let splice = SpliceResponder(channels: channels)
        router.post("/api/channels/:name/splice") { request, context in
            await splice.respond(to: request, channel: context.parameters.get("name") ?? "")
        }
        router.get("/healthz") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain", .cacheControl: "no-store"],
                                                  body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/metrics") { _, _ in
            let now = UTCTime.now()
            for channel in channels.values {
                let last = channel.window.withLock { $0.lastPublication }
                channel.metrics.lastSegmentAge.set(last.map { now - $0 } ?? -1)
                let (listing, parts) = channel.statistics.withLock { ($0.listing, $0.partAnswers) }
                channel.metrics.listingLatencyP50.set(listing.quantile(0.5) ?? -1)
                channel.metrics.listingLatencyP99.set(listing.quantile(0.99) ?? -1)
                channel.metrics.partAnswerLatencyP50.set(parts.quantile(0.5) ?? -1)
                channel.metrics.partAnswerLatencyP99.set(parts.quantile(0.99) ?? -1)
                channel.metrics.heldRequests.set(Double(channel.held.count))
                let release = channel.held.largestRecentRelease
                channel.metrics.largestReleaseRequests.set(Double(release?.requests ?? 0))
                channel.metrics.largestReleaseSeconds.set(release?.seconds ?? -1)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: OriginMetrics.registry.emitToBuffer())))
        }
        router.get("/time") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: UTCTime.xsDateTime(UTCTime.now()))))
        }
        router.get("/") { request, _ in
            let part = request.uri.queryParameters.get("part")
            let page = try await NIOThreadPool.singleton.runIfActive { part == "live" ? liveTable(now: UTCTime.now()) : statusPage(now: UTCTime.now()) }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        return router
    }
}
