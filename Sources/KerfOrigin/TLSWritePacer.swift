import NIOCore

/// Hands a TLS connection's answers to TLS a slice at a time, as the socket takes them.
///
/// swift-nio-ssl encrypts everything written before a flush at once: a cached 1 MB segment
/// written whole becomes 1 MB of ciphertext per connection, held until the client has read
/// it (4,096 clients of one segment: gigabytes). Sitting right above TLS, this handler passes
/// writes on while the socket is writable and keeps the rest, in order, as slices of the
/// buffers it was given (a cached file stays shared between connections); it hands on the
/// next `slice` bytes when the socket's writability comes back. Each write's promise goes
/// with its last byte.
///
/// The socket's writability does not count what is held here, so writers that make new
/// buffers (bodies read from files) wait for `ready(_:)` between chunks. Writes held when
/// the connection closes fail, as unsent writes do in NIO; a half-close waits for them.
final class TLSWritePacer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most handed to TLS in one write: two full TLS records.
    static let slice = 32_768
    /// What may be held before `ready(_:)` makes a writer wait.
    static let readyBelow = 131_072
    /// The socket's write buffer marks on a paced connection: it stops taking slices with more
    /// than one slice of ciphertext unsent, and takes them again under half of that.
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: slice / 2, high: slice)

    private var held = CircularBuffer<(data: ByteBuffer, promise: EventLoopPromise<Void>?)>()
    /// Entries of `held` a flush has covered (the rest wait for the next flush).
    private var flushed = 0
    /// Bytes in `held`.
    private(set) var heldBytes = 0
    /// A half-close asked for while writes were held, and its promise.
    private var closeOutputAsked = false
    private var closeOutputPromise: EventLoopPromise<Void>?
    /// Writers waiting for `heldBytes` to fall under `readyBelow`.
    private var waiters: [EventLoopPromise<Void>] = []
    private var draining = false

    func handlerAdded(context: ChannelHandlerContext) {
        _ = context.channel.setOption(.writeBufferWaterMark, value: Self.waterMark)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        // Passed on at once while nothing is held and the socket takes more, the first slice
        // of a large buffer included.
        if held.isEmpty, context.channel.isWritable {
            guard buffer.readableBytes > Self.slice else { return context.write(data, promise: promise) }
            context.write(wrapOutboundOut(buffer.readSlice(length: Self.slice)!), promise: nil)
        }
        held.append((buffer, promise))
        heldBytes += buffer.readableBytes
    }

    func flush(context: ChannelHandlerContext) {
        flushed = held.count
        context.flush()
        drain(context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        drain(context)
        context.fireChannelWritabilityChanged()
    }

    /// Hands held slices to TLS while the socket stays writable, a flush for each `slice`.
    private func drain(_ context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        var unflushed = 0
        while flushed > 0, context.channel.isWritable {
            let first = held.startIndex
            let part: ByteBuffer
            var promise: EventLoopPromise<Void>?
            if held[first].data.readableBytes > Self.slice {
                part = held[first].data.readSlice(length: Self.slice)!
            } else {
                let entry = held.removeFirst()
                flushed -= 1
                (part, promise) = (entry.data, entry.promise)
            }
            heldBytes -= part.readableBytes
            unflushed += part.readableBytes
            context.write(wrapOutboundOut(part), promise: promise)
            if unflushed >= Self.slice || flushed == 0 {
                unflushed = 0
                context.flush()
            }
        }
        if unflushed > 0 { context.flush() }
        if heldBytes < Self.readyBelow, !waiters.isEmpty {
            let ready = waiters
            waiters = []
            for waiter in ready { waiter.succeed() }
        }
        if held.isEmpty, closeOutputAsked {
            let promise = closeOutputPromise
            closeOutputAsked = false
            closeOutputPromise = nil
            context.close(mode: .output, promise: promise)
        }
    }

    /// A future that succeeds once less than `readyBelow` is held here (at once when it is).
    func whenReady(_ loop: any EventLoop) -> EventLoopFuture<Void> {
        guard heldBytes >= Self.readyBelow else { return loop.makeSucceededVoidFuture() }
        let promise = loop.makePromise(of: Void.self)
        waiters.append(promise)
        return promise.futureResult
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output, !held.isEmpty {
            if closeOutputAsked, let promise, let first = closeOutputPromise {
                first.futureResult.cascade(to: promise)
            } else if closeOutputPromise == nil {
                closeOutputPromise = promise
            }
            closeOutputAsked = true
            return
        }
        if mode == .all { failHeld(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failHeld(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failHeld(ChannelError.ioOnClosedChannel)
    }

    private func failHeld(_ error: any Error) {
        let entries = held, ready = waiters, closing = closeOutputPromise
        held.removeAll()
        flushed = 0
        heldBytes = 0
        waiters = []
        closeOutputAsked = false
        closeOutputPromise = nil
        for entry in entries { entry.promise?.fail(error) }
        for waiter in ready { waiter.fail(error) }
        closing?.fail(error)
    }

    /// Waits, on `channel`'s event loop, until the pacer of its connection (the channel's, or
    /// its parent's for an HTTP/2 stream) holds less than `readyBelow`; one turn of the loop
    /// where there is none (plain connections).
    static func ready(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            // An accepted connection's parent is the listening socket, which may run on
            // another loop; a stream's is its connection, on the same loop.
            let pacer = (try? channel.pipeline.syncOperations.handler(type: TLSWritePacer.self))
                ?? channel.parent.flatMap { parent in
                    parent.eventLoop.inEventLoop ? try? parent.pipeline.syncOperations.handler(type: TLSWritePacer.self) : nil
                }
            return pacer?.whenReady(channel.eventLoop) ?? channel.eventLoop.makeSucceededVoidFuture()
        }
    }
}
