import KerfCore
import KerfLive
import KerfSystem
import NIOCore

/// The origin's fastest path, on raw bytes in front of the HTTP decoder: a plain
/// `GET`/`HEAD /vod/… HTTP/1.1` of a file the `FileCache` holds whole is answered with its
/// response head made once (`ServedFile.rawHead`) and the cached bytes, without decoding the
/// request into HTTP types or encoding the response. Pipelined requests in one read are all
/// answered this way, in order.
///
/// A plain LL-HLS request that must wait is parked here (`RawRequestResponder+Held`). Any other
/// `GET` or `HEAD` (a Range, a conditional or gzip request, a miss, a live or other path, a
/// socket that takes no more) goes on to NIO's decoder and Hummingbird alone, and the
/// requests after it wait until the router has answered it, so answers keep their order. What
/// this path cannot frame (another method, a body, HTTP/1.0, `Connection` other than
/// keep-alive, bare-LF lines, control bytes, a head over 8 KiB or max-header-size) hands the
/// connection to the decoder for good, from that request's first byte.
///
/// Requests answered here never reach Hummingbird's connection state handler, so the idle
/// timeout is kept here instead (from `ConnectionActivity`), and graceful shutdown waits until
/// the socket has taken the responses written here before it reaches the state handler. The
/// decoder and the handlers behind it are added (`RouterAttachment`) when a request first goes
/// on to them; until then, shutdown and the client's half-close close the connection here.
final class RawRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The longest request head looked at here (longer ones are the decoder's to refuse).
    private let maximumHead: Int

    private let vod: VODResponder
    let activity: ConnectionActivity
    let idleTimeout: TimeAmount
    /// The socket is below (no TLS): sealed copies go out with `sendfile`.
    private let sendsFiles: Bool
    /// The connection's held-request gate (low-latency channels): plain LL-HLS requests that
    /// must wait are parked here, before the decoder, and answered with its shared answers.
    let gate: HeldRequestGate?
    /// The request parked here: its place among the channel's held requests, its answer, and its
    /// head (handed to the router if it is not answered here). What follows waits behind it.
    var parked: (held: HeldRequests, ticket: HeldRequests.Ticket, resource: HeldAnswers.Resource, head: ByteBuffer)?
    /// Sealed copies written and not yet sent: the socket is corked while there are any.
    private var filesInFlight = 0
    /// The connection has been handed on to the decoder for good.
    private var handedOn = false
    /// A request went to the router alone: what follows waits for its answer.
    var waitingForRouter = false
    /// Bytes not looked at yet: the start of a head, or requests waiting for the router.
    private var partial: ByteBuffer?
    /// Bytes went on to the decoder since the last read completed.
    private var forwarded = false
    /// What may wait for the router before the connection is handed on for good.
    static let maximumWaiting = 65_536
    /// Graceful shutdown began: nothing more is answered here.
    private var quiescing = false
    /// Shutdown or half-close events waiting for the answers written here (see
    /// `userInboundEventTriggered`), the latest they wait, and whether a retry is scheduled.
    private var heldEvents: [Any] = []
    private var heldUntil = NIODeadline.uptimeNanoseconds(0)
    private var heldRetry = false
    /// Bytes written but unsent at the last idle check (a client that reads moves them).
    private var lastBuffered = 0
    private var idleCheck: LoopDeadlines.Token?
    private var deadlines: LoopDeadlines?
    private var date = DateHeader()
    /// Makes the router's handlers behind this one when a request first goes on to them (nil:
    /// they are there from the start).
    private let router: RouterAttachment?

    init(vod: VODResponder, activity: ConnectionActivity, idleTimeout: TimeAmount, sendsFiles: Bool, gate: HeldRequestGate? = nil,
         router: RouterAttachment? = nil) {
        self.vod = vod
        self.router = router
        self.gate = gate
        self.activity = activity
        self.idleTimeout = idleTimeout
        self.sendsFiles = sendsFiles
        maximumHead = min(8192, vod.configuration.maxHeaderSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        activity.touch(context.eventLoop.now)
        let loop = context.eventLoop, bound = NIOLoopBound((responder: self, context: context), eventLoop: loop)
        // Called as the router's response ends: looked at once that write is done.
        activity.routerAnswered = { loop.execute { bound.value.responder.routerAnswered(bound.value.context) } }
        deadlines = LoopDeadlines.on(loop)
        scheduleIdleCheck(context, in: idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlines?.cancel(idleCheck)
        idleCheck = nil
        activity.routerAnswered = nil
        forgetParked()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !handedOn else {
            forwarded = true
            return context.fireChannelRead(data)
        }
        var input = unwrapInboundIn(data)
        if var earlier = partial {
            earlier.writeBuffer(&input)
            input = earlier
        }
        partial = input
        if parked != nil {
            // Kept until the parked request is answered; a client that pipelines this much
            // behind it is closed (its answers must keep their order).
            if input.readableBytes > Self.maximumWaiting { context.close(promise: nil) }
            return
        }
        if waitingForRouter {
            // Kept until the router has answered; a client that pipelines this much more is
            // the decoder's from now on.
            if input.readableBytes > Self.maximumWaiting { handOnForGood(context) }
            return
        }
        process(context, inRead: true)
    }

    /// Answers the complete heads buffered, in order, until one must go to the router or wait.
    func process(_ context: ChannelHandlerContext, inRead: Bool) {
        guard var input = partial else { return }
        partial = nil
        var answered = false
        while input.readableBytes > 0 {
            guard let length = Self.headLength(input) else {
                // Lines ended by a bare LF, and bytes no request line starts with (a TLS
                // hello, binary garbage), are the decoder's to judge, at once.
                if input.readableBytes > maximumHead || Self.hasBareLineFeed(input) || !Self.canStartRequest(input) { break }
                // The rest of this head comes in a later read.
                partial = input
                input.moveReaderIndex(to: input.writerIndex)
                break
            }
            let kind = length > maximumHead ? .other
                : input.withUnsafeReadableBytes { Self.parse(UnsafeRawBufferPointer(rebasing: $0[0..<length]), maxURLLength: vod.configuration.maxURLLength) }
            if case .plain(let path, let isHead, let acceptEncoding) = kind, !quiescing, context.channel.isWritable,
               let served = answerable(path, isHead: isHead, acceptEncoding: acceptEncoding) {
                respond(context, served: served, isHead: isHead)
                input.moveReaderIndex(forwardBy: length)
                answered = true
                continue
            }
            if case .live(let target, let isHead) = kind, !quiescing, let gate, let (hold, resource) = gate.rawHold(target: target, isHead: isHead) {
                if park(context, hold: hold, resource: resource, head: input.getSlice(at: input.readerIndex, length: length)!) {
                    // What follows waits for its answer.
                    input.moveReaderIndex(forwardBy: length)
                    if input.readableBytes > 0 { partial = input }
                    input.moveReaderIndex(to: input.writerIndex)
                    break
                }
                // Published meanwhile: the router answers it at once, as below.
            }
            guard case .other = kind else {
                // A GET or HEAD without a body: this request alone goes to the router; what
                // follows waits for its answer.
                guard attachRouter(context) else { return }
                waitingForRouter = true
                forwarded = inRead
                context.fireChannelRead(wrapInboundOut(input.readSlice(length: length)!))
                if !inRead { context.fireChannelReadComplete() }
                if input.readableBytes > 0 { partial = input }
                input.moveReaderIndex(to: input.writerIndex)
                break
            }
            break
        }
        if answered {
            activity.touch(context.eventLoop.now)
            context.flush()
        }
        if input.readableBytes > 0 {
            // A request this path cannot frame alone (another method, a body, HTTP/1.0, a bad
            // or oversized head): it and all that follows go to the decoder.
            partial = input
            handOnForGood(context, inRead: inRead)
        }
    }

    /// Everything buffered and all that follows goes to the decoder.
    private func handOnForGood(_ context: ChannelHandlerContext, inRead: Bool = true) {
        handedOn = true
        waitingForRouter = false
        if let input = partial {
            partial = nil
            guard attachRouter(context) else { return }
            forwarded = inRead
            context.fireChannelRead(wrapInboundOut(input))
            if !inRead { context.fireChannelReadComplete() }
        }
        releaseHeldEvents(context)
    }

    /// Read completion matters to the handlers behind only when they were given something.
    func channelReadComplete(context: ChannelHandlerContext) {
        guard forwarded else { return }
        forwarded = false
        context.fireChannelReadComplete()
    }

    /// The router answered what was handed to it: the requests that waited are looked at (or,
    /// when its answer ends the connection or was not to a request, handed on with the rest).
    private func routerAnswered(_ context: ChannelHandlerContext) {
        guard waitingForRouter, !handedOn, context.channel.isActive else { return }
        if activity.routerEnding { return handOnForGood(context, inRead: false) }
        waitingForRouter = false
        process(context, inRead: false)
        releaseHeldEvents(context)
    }

    /// Graceful shutdown and the client's half-close reach the handlers behind once the
    /// answers written here have been sent and no request waits for the router (at most the
    /// idle timeout after that) or is parked here (until it is released: Hummingbird, which
    /// never saw it, would close the connection unanswered): Hummingbird closes the connection
    /// on either.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { quiescing = true }
        let inputClosed = (event as? ChannelEvent) == .inputClosed
        guard !handedOn, event is ChannelShouldQuiesceEvent || inputClosed else { return context.fireUserInboundEventTriggered(event) }
        heldEvents.append(event)
        if heldEvents.count == 1 { releaseHeldEvents(context, until: context.eventLoop.now + idleTimeout) }
    }

    /// Passes the held events on once nothing written here is unsent and nothing waits.
    func releaseHeldEvents(_ context: ChannelHandlerContext, until deadline: NIODeadline? = nil) {
        guard !heldEvents.isEmpty else { return }
        if let deadline { heldUntil = deadline }
        // A parked request's release looks again (no polling meanwhile).
        guard parked == nil else { return }
        let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let settled = (handedOn || !waitingForRouter) && buffered == 0
        guard settled || !context.channel.isActive || context.eventLoop.now >= heldUntil else {
            guard !heldRetry else { return }
            heldRetry = true
            context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .milliseconds(10)) { [self] in
                heldRetry = false
                releaseHeldEvents(context)
            }
            return
        }
        let events = heldEvents
        heldEvents = []
        // Without the router's handlers, nothing else is answering: the connection ends here.
        guard router?.attached ?? true else { return context.close(promise: nil) }
        for event in events { context.fireUserInboundEventTriggered(event) }
    }

    /// Makes sure the router's handlers are behind this one before a request goes to them;
    /// false (and the connection closed) when they could not be added.
    func attachRouter(_ context: ChannelHandlerContext) -> Bool {
        do {
            try router?.attach()
            return true
        } catch {
            context.close(promise: nil)
            return false
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlines?.cancel(idleCheck)
        idleCheck = nil
        forgetParked()
        context.fireChannelInactive()
    }

    /// The file to send for a plain request of `path`, when the cache holds it whole and the
    /// client does not take a gzip answer instead.
    private func answerable(_ path: Substring, isHead: Bool, acceptEncoding: String?) -> ServedFile? {
        // A HEAD does not claim the refresh of an expired entry (it reads no bytes to cache).
        vod.fastServed(path, acceptEncoding: acceptEncoding, stale: !isHead)
    }

    private func respond(_ context: ChannelHandlerContext, served: ServedFile, isHead: Bool) {
        let start = ContinuousClock.now
        date.refresh()
        var head = served.rawHead!
        head.writeString(date.lastLine)
        let sealed = isHead || !sendsFiles ? nil : served.file.sealed
        // The head waits for the file's first bytes, so both leave in full segments (nginx's
        // tcp_nopush): a head sent alone costs the client a wakeup and a packet per response.
        if sealed != nil, filesInFlight == 0 { setCork(context, true) }
        context.write(wrapOutboundOut(head), promise: nil)
        if !isHead {
            if let sealed {
                send(sealed, size: served.file.size, keeping: served.file, context: context)
            } else {
                context.write(wrapOutboundOut(served.file.contents!), promise: nil)
            }
            OriginMetrics.bytesServed["vod"]?.increment(by: Int64(served.file.size))
        }
        OriginMetrics.requests.record(route: "/vod/**", method: isHead ? .head : .get, status: 200, duration: ContinuousClock.now - start)
    }

    /// Writes the whole of a sealed copy as a `FileRegion` (`SharedFileRegion`). The cork comes
    /// off when the last file written has gone, so the last partial segment leaves.
    private func send(_ sealed: SystemFile, size: Int, keeping owner: OpenFile, context: ChannelHandlerContext) {
        filesInFlight += 1
        let (region, promise) = SharedFileRegion.make(sealed, 0..<size, keeping: owner, on: context.eventLoop) { [self] in
            filesInFlight -= 1
            if filesInFlight == 0 { setCork(context, false) }
        }
        context.write(NIOAny(IOData.fileRegion(region)), promise: promise)
    }

    static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCPOption.cork))

    /// Sets or clears `TCP_CORK` (a closed socket refuses either, and needs neither).
    private func setCork(_ context: ChannelHandlerContext, _ on: Bool) {
        try? context.channel.syncOptions?.setOption(Self.cork, value: on ? 1 : 0)
    }

    /// Closes the connection once nothing has happened on it for the idle timeout: no request
    /// being answered (here or by the router) and none started since.
    private func scheduleIdleCheck(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        idleCheck = deadlines?.schedule(in: delay) { [self] in
            idleCheck = nil
            let now = context.eventLoop.now
            // Bytes still unsent but moving keep the connection busy; stuck ones do not.
            let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            if buffered != lastBuffered {
                lastBuffered = buffered
                if buffered > 0 { activity.touch(now) }
            }
            let due = activity.last + idleTimeout
            if activity.inFlight == 0, !waitingForRouter, parked == nil, due <= now {
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context, in: max(due - now, .milliseconds(100)))
            }
        }
    }
}
