import Logging
import NIOCore
import NIOPosix
import Synchronization

/// `kerf serve`'s RTMP ingest: a SwiftNIO server (port 1935 by default) where publishers push
/// to the channels configured with `input: rtmp` at `rtmp://host:1935/live/<channel>?key=<key>`
/// (OBS: server `rtmp://host/live`, stream key `<channel>?key=<key>`).
package final class RTMPServer: Sendable {
    package struct Limits: Sendable {
        package var maximumConnections = 64
        /// Bits per second a publisher may send (over 10 s).
        package var maximumBitRate = 50_000_000
        package var handshakeTimeout = TimeAmount.seconds(10)
        package var idleTimeout = TimeAmount.seconds(30)
        package var maximumChunkSize = 65_536
        package var maximumMessageSize = 16 << 20

        package init() {}
    }

    /// Why a publish is refused, with its NetStream status code.
    package struct Refusal: Error, Sendable {
        package var code: String
        package var description: String

        package init(code: String, description: String) {
            self.code = code
            self.description = description
        }
    }

    let limits: Limits
    private let authorizer: any PublishAuthorizer
    private let logger: Logger
    private let connections = Atomic<Int>(0)
    private let server = Mutex<(any Channel)?>(nil)
    /// Open connections by channel identity, closed by `stop()` (after which any connection
    /// still being accepted is closed at once).
    private let open = Mutex<(channels: [ObjectIdentifier: any Channel], stopped: Bool)>(([:], false))

    package init(authorizer: any PublishAuthorizer, limits: Limits, logger: Logger) {
        self.authorizer = authorizer
        self.limits = limits
        self.logger = logger
    }

    /// Binds and starts accepting publishers; returns the bound port.
    package func start(host: String, port: Int) async throws -> Int {
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
    package var boundPort: Int? { server.withLock { $0?.localAddress?.port } }

    package func stop() async {
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

    /// A publish for stream `name` with `key`: the authorizer's pipe, or why not.
    func authorize(channel name: String, key: String?) -> Result<FLVPipe, Refusal> {
        authorizer.authorizePublish(stream: name, key: key)
    }
}
