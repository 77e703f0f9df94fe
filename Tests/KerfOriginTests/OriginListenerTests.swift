import Foundation
import KerfTestSupport
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
@testable import KerfOrigin
import KerfTestTags

/// The origin's listener on real sockets and two event loops: a socket per loop on one port,
/// connections kept on the loop that accepted them, graceful shutdown and cancellation.
@Suite(.tags(.integration)) struct OriginListenerTests {
    /// Closes its connection when told to quiesce, if `closesOnQuiesce`, and when the client
    /// closes its end; counts the quiesce events.
    final class QuiesceWatcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let closesOnQuiesce: Bool
        let quiesced = Atomic(0)

        init(closesOnQuiesce: Bool) {
            self.closesOnQuiesce = closesOnQuiesce
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if (event as? ChannelEvent) == .inputClosed { return context.close(promise: nil) }
            guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
            quiesced.add(1, ordering: .relaxed)
            if closesOnQuiesce { context.close(promise: nil) }
        }
    }

    /// A listener on a free port of `loops`, run in a service group: the loops its connections
    /// were accepted and kept on (a connection moved to another loop counts as one of its own),
    /// and whether it has ended.
    final class Running: Sendable {
        let group: ServiceGroup
        let task: Task<Void, Error>
        let port: Int
        let acceptedOn: @Sendable () -> [ObjectIdentifier]
        private let finished = Atomic(false)

        init(loops: any EventLoopGroup, watcher: QuiesceWatcher = QuiesceWatcher(closesOnQuiesce: true),
             task work: (@Sendable () async -> Void)? = nil) async throws {
            let accepted = Mutex<[ObjectIdentifier]>([])
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let listener = OriginListener(host: "127.0.0.1", port: 0, group: loops, backlog: 64, acceptsPerTurn: 16, initializer: { channel, tasks in
                // Kept on the loop whose socket accepted it (its parent's).
                let sameLoop = channel.parent.map { $0.eventLoop === channel.eventLoop } ?? false
                accepted.withLock { $0.append(ObjectIdentifier(sameLoop ? channel.eventLoop : channel)) }
                if let work { tasks.run(work) }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(watcher) }
            }, onRunning: { continuation.yield($0) }, logger: Logger(label: "test"))
            let group = ServiceGroup(services: [listener], logger: Logger(label: "test"))
            self.group = group
            acceptedOn = { accepted.withLock { $0 } }
            let task = Task { try await group.run() }
            self.task = task
            var iterator = ports.makeAsyncIterator()
            port = try #require(await iterator.next())
            Task { [self] in
                _ = await task.result
                finished.store(true, ordering: .relaxed)
            }
        }

        var ended: Bool { finished.load(ordering: .relaxed) }
    }

    @Test func eachLoopAcceptsOnTheSamePort() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let running = try await Running(loops: loops)
        let connections = try (0..<64).map { _ in try RawConnection(port: running.port) }
        try await waitUntil("the 64 connections to be accepted", timeout: .seconds(20)) { running.acceptedOn().count == 64 }
        // The kernel shares connections out between the loops' sockets by their addresses: with
        // 64 of them, each loop gets some.
        let perLoop = Dictionary(grouping: running.acceptedOn(), by: { $0 }).mapValues(\.count)
        #expect(perLoop.count == 2, "\(perLoop)")
        for connection in connections { connection.close() }
        running.task.cancel()
        _ = await running.task.result
        try await loops.shutdownGracefully()
    }

    /// Graceful shutdown stops accepting at once, and ends once every connection has closed.
    @Test func gracefulShutdownWaitsForTheConnections() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let watcher = QuiesceWatcher(closesOnQuiesce: false)
        let running = try await Running(loops: loops, watcher: watcher)
        let connections = try (0..<8).map { _ in try RawConnection(port: running.port) }
        try await waitUntil("the connections to be accepted", timeout: .seconds(20)) { running.acceptedOn().count == 8 }
        await running.group.triggerGracefulShutdown()
        try await waitUntil("every connection to be asked to finish", timeout: .seconds(20)) { watcher.quiesced.load(ordering: .relaxed) == 8 }
        try await waitUntil("the listener to refuse connections", timeout: .seconds(20)) {
            guard let late = try? RawConnection(port: running.port) else { return true }
            late.close()
            return false
        }
        #expect(!running.ended)
        // Still running: the connections are open.
        #expect(!connections.contains { $0.peerClosed })
        for connection in connections { connection.close() }
        try await waitUntil("the listener to end", timeout: .seconds(20)) { running.ended }
        try await loops.shutdownGracefully()
    }

    /// Cancellation closes the connections, and cancels the tasks they started.
    @Test func cancellationClosesConnectionsAndCancelsTheirTasks() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let cancelled = Atomic(0)
        let running = try await Running(loops: loops) {
            // Runs until cancelled.
            let (never, _) = AsyncStream.makeStream(of: Int.self)
            for await _ in never {}
            cancelled.add(1, ordering: .relaxed)
        }
        let connections = try (0..<4).map { _ in try RawConnection(port: running.port) }
        try await waitUntil("the connections to be accepted", timeout: .seconds(20)) { running.acceptedOn().count == 4 }
        running.task.cancel()
        for connection in connections { #expect(connection.receive().closed) }
        _ = await running.task.result
        #expect(cancelled.load(ordering: .relaxed) == 4)
        try await loops.shutdownGracefully()
    }

    /// `listen-backlog` reaches the kernel: `ss` (iproute2, reading the kernel's own socket
    /// table) shows each listening socket's queue, 100 when set and 4,096 by default (both under
    /// `net.core.somaxconn`, which caps it).
    @Test func listenBacklogReachesTheSockets() async throws {
        let somaxconn = Int((try? String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 4096
        for (backlog, expected) in [(100, 100), (nil, min(4096, somaxconn))] {
            var configuration = OriginConfiguration()
            configuration.root = try Fixtures.temporaryDirectory("kerf-backlog").path
            if let backlog { configuration.listenBacklog = backlog }
            let origin = try await RunningOrigin(configuration)
            let listing = try await Command.runDetached("ss", ["-ltnH", "sport = :\(origin.port)"])
            await origin.stop()
            try? FileManager.default.removeItem(atPath: configuration.root)
            #expect(listing.status == 0, "\(listing.stderr)")
            // State, Recv-Q, Send-Q (a listening socket's queue length), local and peer address.
            let rows: [[Substring]] = listing.stdout.split(separator: "\n").map { $0.split(separator: " ") }
            let queues: [Int?] = rows.filter { $0.count >= 4 && $0[0] == "LISTEN" }.map { Int($0[2]) }
            #expect(!queues.isEmpty && queues.allSatisfy { $0 == expected }, "\(listing.stdout)")
        }
    }
}
