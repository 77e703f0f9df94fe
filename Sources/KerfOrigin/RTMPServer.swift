import Logging
import NIOCore
import NIOPosix
import Synchronization

/// `kerf serve`'s RTMP ingest: a SwiftNIO server (port 1935 by default) where publishers push
/// to the channels configured with `input: rtmp` at `rtmp://host:1935/live/<channel>?key=<key>`
/// (OBS: server `rtmp://host/live`, stream key `<channel>?key=<key>`).
final class RTMPServer: Sendable {
    struct Limits: Sendable {
        var maximumConnections = 64
        /// Bits per second a publisher may send (over 10 s).
        var maximumBitRate = 50_000_000
        var handshakeTimeout = TimeAmount.seconds(10)
        var idleTimeout = TimeAmount.seconds(30)
        var maximumChunkSize = 65_536
        var maximumMessageSize = 16 << 20
    }

    /// Why a publish is refused, with its NetStream status code.
    struct Refusal: Error, Sendable {
        var code: String
        var description: String
    }

    let limits: Limits
    private let channels: [String: LiveChannel]
    private let logger: Logger
    private let connections = Atomic<Int>(0)
    private let server = Mutex<(any Channel)?>(nil)
    /// Open connections by channel identity, closed by `stop()` (after which any connection
    /// still being accepted is closed at once).
    private let open = Mutex<(channels: [ObjectIdentifier: any Channel], stopped: Bool)>(([:], false))

    init(channels: [String: LiveChannel], limits: Limits, logger: Logger) {
        self.channels = channels
        self.limits = limits
        self.logger = logger
    }

    /// Binds and starts accepting publishers; returns the bound port.
    func start(host: String, port: Int) async throws -> Int {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: self.limits.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(RTMPConnectionHandler(server: self, logger: self.logger))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        server.withLock { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// The bound port, once started.
    var boundPort: Int? { server.withLock { $0?.localAddress?.port } }

    func stop() async {
        let channel = server.withLock { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await channel?.close()
        // Publishers still connected are disconnected; their channels wait for the next one.
        let connections = open.withLock { state in
            state.stopped = true
            return Array(state.channels.values)
        }
        for connection in connections { try? await connection.close() }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let stopped = open.withLock { state in
            if !state.stopped { state.channels[id] = channel }
            return state.stopped
        }
        if stopped { return channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [self] _ in _ = open.withLock { $0.channels.removeValue(forKey: id) } }
    }

    func connectionOpened() -> Bool {
        connections.wrappingAdd(1, ordering: .relaxed).newValue <= limits.maximumConnections
    }

    func connectionClosed() {
        connections.wrappingSubtract(1, ordering: .relaxed)
    }

    /// A publish for `channel` with `key`: the channel's pipe, or why not.
    func authorize(channel name: String, key: String?) -> Result<FLVPipe, Refusal> {
        // Only push channels are given to the server.
        guard let channel = channels[name] else {
            return .failure(Refusal(code: "NetStream.Publish.BadName", description: "no push channel named \(name)"))
        }
        return channel.acceptPublisher(key: key)
    }
}
