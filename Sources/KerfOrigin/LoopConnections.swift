import NIOCore

/// The open connections one event loop accepted (`OriginListener`), for graceful shutdown and
/// cancellation: no lock, since each is added, removed and visited on its own loop.
final class LoopConnections {
    private var open: [ObjectIdentifier: any Channel] = [:]
    /// Completed when the last connection has closed, once shutdown has begun.
    private var drained: EventLoopPromise<Void>?

    /// Keeps the connection until it closes.
    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        open[key] = channel
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in bound.value.remove(key) }
    }

    private func remove(_ key: ObjectIdentifier) {
        open[key] = nil
        if open.isEmpty, let drained {
            self.drained = nil
            drained.succeed()
        }
    }

    /// Asks every connection to finish what it is answering and close (each protocol's handlers
    /// act on `ChannelShouldQuiesceEvent`); `promise` completes once they all have.
    func quiesce(_ promise: EventLoopPromise<Void>) {
        guard !open.isEmpty else { return promise.succeed() }
        if let drained { promise.futureResult.cascade(to: drained) }
        drained = promise
        for channel in open.values { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }

    /// Closes every connection at once.
    func closeAll() {
        for channel in open.values { channel.close(promise: nil) }
    }
}

/// Runs the work of a connection that needs a Swift task (Hummingbird's router answering its
/// requests) in its listener's task group, so that cancelling the listener cancels it.
struct ConnectionTasks: Sendable {
    let continuation: AsyncStream<@Sendable () async -> Void>.Continuation

    func run(_ work: @escaping @Sendable () async -> Void) {
        continuation.yield(work)
    }
}
