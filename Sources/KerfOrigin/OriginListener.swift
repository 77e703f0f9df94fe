import KerfSystem
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One listening address of the origin: a socket per event loop on the same port
/// (`SO_REUSEPORT`, as nginx's `reuseport`), so each loop accepts its own share of a crowd of
/// new connections and keeps them, with no hand-over between threads. A connection costs no
/// Swift task until a request needs the router (`ConnectionTasks`): those the raw path answers
/// alone live on their loop only.
///
/// Graceful shutdown stops accepting and lets every connection finish what it is answering
/// (`ChannelShouldQuiesceEvent`); cancellation closes them all at once.
struct OriginListener: Service {
    /// Sets up an accepted connection on its event loop.
    typealias Initializer = @Sendable (_ channel: any Channel, _ tasks: ConnectionTasks) -> EventLoopFuture<Void>

    let host: String
    let port: Int
    let group: any EventLoopGroup
    let backlog: Int32
    /// Connections a loop accepts per turn.
    let acceptsPerTurn: UInt
    let initializer: Initializer
    /// Called with the bound port once every socket listens.
    let onRunning: @Sendable (Int) async -> Void
    let logger: Logger

    static let reusePort = ChannelOptions.Types.SocketOption(level: .socket, name: .init(rawValue: SocketOption.reusePort))

    func run() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
        let tasks = ConnectionTasks(continuation: continuation)
        var sockets: [(server: any Channel, connections: NIOLoopBoundBox<LoopConnections>)] = []
        do {
            var bound = port
            for loop in group.makeIterator() {
                let connections = NIOLoopBoundBox.makeBoxSendingValue(LoopConnections(), eventLoop: loop)
                let server = try await bind(loop, port: bound, tasks: tasks, connections: connections)
                bound = server.localAddress?.port ?? bound
                sockets.append((server, connections))
            }
        } catch {
            for socket in sockets { try? await socket.server.close() }
            throw error
        }
        let boundPort = sockets.first?.server.localAddress?.port ?? port
        logger.info("listening", metadata: ["address": "\(host):\(boundPort)", "sockets": "\(sockets.count)"])
        await onRunning(boundPort)
        let servers = sockets
        await withDiscardingTaskGroup { running in
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    for await work in stream { running.addTask { await work() } }
                } onCancel: {
                    for socket in servers {
                        socket.server.eventLoop.execute {
                            socket.server.close(promise: nil)
                            socket.connections.value.closeAll()
                        }
                    }
                    continuation.finish()
                }
            } onGracefulShutdown: {
                let drained = servers.map { socket in
                    socket.server.eventLoop.flatSubmit {
                        let promise = socket.server.eventLoop.makePromise(of: Void.self)
                        socket.server.close(promise: nil)
                        socket.connections.value.quiesce(promise)
                        return promise.futureResult
                    }
                }
                EventLoopFuture.andAllComplete(drained, on: group.next()).whenComplete { _ in continuation.finish() }
            }
        }
        for socket in servers { try? await socket.server.close() }
    }

    /// A listening socket on `loop`, whose connections stay on it.
    private func bind(_ loop: any EventLoop, port: Int, tasks: ConnectionTasks, connections: NIOLoopBoundBox<LoopConnections>) async throws -> any Channel {
        let initializer = initializer
        return try await ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(Self.reusePort, value: 1)
            .serverChannelOption(.maxMessagesPerRead, value: acceptsPerTurn)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                connections.value.add(channel)
                return initializer(channel, tasks)
            }
            .bind(host: host, port: port).get()
    }
}
