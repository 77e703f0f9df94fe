import NIOCore

/// Hands a TLS connection's answers to TLS a slice at a time, as the socket takes them.
///
/// swift-nio-ssl encrypts everything written before a flush at once: a cached 1 MB segment
/// written whole (HTTP/1.1), or an HTTP/2 flow-control window of DATA frames, becomes that
/// much ciphertext per connection, held until the client has read it (4,096 clients of one
/// segment: gigabytes). Sitting right above TLS, this handler passes on at most `slice` bytes
/// between two flushes while the socket is writable and keeps the rest, in order, as slices of
/// the buffers it was given (a cached file stays shared between connections); it hands on the
/// next slices when the socket's writability comes back. Each write's promise goes with its
/// last byte.
///
/// Small writes that follow one another are gathered into one buffer of up to a TLS record
/// before they go (nginx's `ssl_buffer_size`): TLS makes a record of each write, so a response
/// head and its small body, or an HTTP/2 answer's HEADERS frame, DATA frame header and payload,
/// would otherwise cost a record each, with its encryption pass, framing and tag, and the
/// client a decryption each.
///
/// The socket's writability does not count what is held here, so writers that make new
/// buffers (bodies read from files) wait for `ready(_:)` between chunks. A close hands
/// everything held to TLS first, as if it had been written there (TLS then sends it before its
/// close_notify, within its shutdown timeout); when the socket is gone, held writes fail.
final class TLSWritePacer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most handed to TLS in one write: two full TLS records.
    static let slice = 32_768
    /// What may be held before `ready(_:)` makes a writer wait.
    static let readyBelow = 131_072
    /// Writes of at most this many bytes are gathered (larger ones go as they are).
    static let gatherBelow = 4_096
    /// The most gathered into one buffer: one TLS record's plaintext.
    static let record = 16_384
    /// The socket's write buffer marks on a paced connection: it stops taking slices with more
    /// than one slice of ciphertext unsent, and takes them again under half of that.
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: slice / 2, high: slice)

    private var held = CircularBuffer<(data: ByteBuffer, promise: EventLoopPromise<Void>?)>()
    /// Entries of `held` a flush has covered (the rest wait for the next flush).
    private var flushed = 0
    /// Bytes in `held`.
    private(set) var heldBytes = 0
    /// Bytes passed on since the last flush (TLS has not encrypted them yet, so the socket's
    /// writability does not show them).
    private var passedSinceFlush = 0
    /// Writers waiting for `heldBytes` to fall under `readyBelow`.
    private var waiters: [EventLoopPromise<Void>] = []
    private var draining = false
    /// Small writes gathered and not yet passed on, and their promises in write order. A
    /// lone write is kept as it is; a second one makes a buffer of its own to gather into.
    private var gathered: ByteBuffer?
    private var gatheredOwned = false
    private var gatheredPromises: [EventLoopPromise<Void>] = []

    func handlerAdded(context: ChannelHandlerContext) {
        _ = context.channel.setOption(.writeBufferWaterMark, value: Self.waterMark)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        // Passed on at once while nothing is held, the socket takes more and less than a slice
        // went since the last flush; a larger buffer's first bytes up to the slice included.
        let room = Self.slice - passedSinceFlush
        if held.isEmpty, room > 0, context.channel.isWritable {
            guard buffer.readableBytes > room else {
                passedSinceFlush += buffer.readableBytes
                return pass(context, buffer, promise: promise)
            }
            pass(context, buffer.readSlice(length: room)!, promise: nil)
            passedSinceFlush = Self.slice
        }
        passGathered(context)
        held.append((buffer, promise))
        heldBytes += buffer.readableBytes
    }

    func flush(context: ChannelHandlerContext) {
        flushed = held.count
        passGathered(context)
        context.flush()
        passedSinceFlush = 0
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
            pass(context, part, promise: promise)
            if unflushed >= Self.slice || flushed == 0 {
                unflushed = 0
                passGathered(context)
                context.flush()
                passedSinceFlush = 0
            }
        }
        if unflushed > 0 {
            passGathered(context)
            context.flush()
            passedSinceFlush = 0
        }
        if heldBytes < Self.readyBelow, !waiters.isEmpty { releaseWaiters() }
    }

    /// Passes `buffer` on to TLS: gathered with the small writes before it when it is small
    /// and fits, else after them.
    private func pass(_ context: ChannelHandlerContext, _ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard buffer.readableBytes <= Self.gatherBelow else {
            passGathered(context)
            return context.write(wrapOutboundOut(buffer), promise: promise)
        }
        if let first = gathered, first.readableBytes + buffer.readableBytes > Self.record { passGathered(context) }
        if var into = gathered {
            gathered = nil
            if !gatheredOwned {
                var owned = context.channel.allocator.buffer(capacity: Self.record)
                owned.writeImmutableBuffer(into)
                into = owned
                gatheredOwned = true
            }
            into.writeImmutableBuffer(buffer)
            gathered = into
        } else {
            gathered = buffer
            gatheredOwned = false
        }
        if let promise { gatheredPromises.append(promise) }
    }

    /// Passes on what is gathered, as one write whose promise completes those of its parts.
    private func passGathered(_ context: ChannelHandlerContext) {
        guard let buffer = gathered else { return }
        gathered = nil
        let promise: EventLoopPromise<Void>?
        switch gatheredPromises.count {
        case 0: promise = nil
        case 1: promise = gatheredPromises[0]
        default:
            let parts = gatheredPromises
            promise = context.eventLoop.makePromise()
            promise?.futureResult.whenComplete { result in
                for part in parts { part.completeWith(result) }
            }
        }
        gatheredPromises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// A future that succeeds once less than `readyBelow` is held here (at once when it is).
    func whenReady(_ loop: any EventLoop) -> EventLoopFuture<Void> {
        guard heldBytes >= Self.readyBelow else { return loop.makeSucceededVoidFuture() }
        let promise = loop.makePromise(of: Void.self)
        waiters.append(promise)
        return promise.futureResult
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // What is held goes to TLS as it would have without this handler (the end of an
        // answer before a `Connection: close`, or before graceful shutdown's close), then the
        // close: TLS sends the bytes before its close_notify, or gives up on a client that
        // reads nothing after its shutdown timeout.
        passGathered(context)
        if !held.isEmpty {
            let entries = held
            held.removeAll()
            flushed = 0
            heldBytes = 0
            for entry in entries { context.write(wrapOutboundOut(entry.data), promise: entry.promise) }
            context.flush()
            passedSinceFlush = 0
            releaseWaiters()
        }
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
        let entries = held, ready = waiters, parts = gatheredPromises
        gathered = nil
        gatheredPromises = []
        held.removeAll()
        flushed = 0
        heldBytes = 0
        waiters = []
        for part in parts { part.fail(error) }
        for entry in entries { entry.promise?.fail(error) }
        for waiter in ready { waiter.fail(error) }
    }

    private func releaseWaiters() {
        let ready = waiters
        waiters = []
        for waiter in ready { waiter.succeed() }
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
