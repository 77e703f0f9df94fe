import KerfLive
import HTTPTypes
import HummingbirdCore
import KerfCore
import NIOCore
import NIOHTTPTypes

/// Parks LL-HLS requests that must wait (a blocking playlist reload for a part not yet
/// published, the preload-hinted part) on their connection's event loop, before the async
/// router: a parked request costs its head and an entry in the channel's `HeldRequests`, not a
/// suspended chain of tasks and middleware frames. When what it waits for is published, a
/// plain request is answered here, with the answer `HeldAnswers` made once for all the requests
/// waiting for it (the router's response, its metrics counted as the router counts them); any
/// other goes on to Hummingbird, which answers it at once from the window. At the deadline a
/// request goes on marked as expired (`Kerf-Hold-Expired`) and is answered without waiting
/// again (503 or 404). Middleware and token checks thus apply unchanged.
///
/// It sits after Hummingbird's connection state handler and the origin's activity tracker (which
/// thus counts a parked request as one being answered). Requests pipelined behind a parked one
/// wait with it and then go on to the router (answers keep their order); a client that
/// pipelines more than a few behind it is closed.
final class HeldRequestGate: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Set by the gate on a request it held until its deadline; removed from what clients send.
    static let expiredField = HTTPField.Name("Kerf-Hold-Expired")!
    /// Request parts buffered behind a parked request before the connection is closed.
    static let maximumBuffered = 64

    private let live: LiveResponder
    private let signer: SignedURL?
    /// The answers written here (nil: every released request goes on to the router).
    private let answers: HeldAnswers?
    private let maxURLLength: Int
    /// The parked request and what was pipelined behind it.
    private var parked: [HTTPRequestPart] = []
    /// The parked request's entry in its channel's held requests.
    private var holding: (held: HeldRequests, ticket: HeldRequests.Ticket)?
    /// What the parked request is answered with here once released, when it is plain.
    private var answerable: HeldAnswers.Resource?
    /// Requests handed on whose response has not ended yet: only a request with nothing ahead
    /// of it is parked.
    private var inFlight = 0
    /// The client half-closed while a request was parked.
    private var inputClosed = false
    /// What the raw path (`RawRequestResponder`, which parks plain requests before the decoder)
    /// decided about the next request head it hands on: one it held until its deadline goes on
    /// marked, and one it found need not wait is not looked at again. Neither is held here.
    enum RawVerdict { case expired, needsNoHold }
    private var nextHead: RawVerdict?
    /// The next request head is one the raw path held until its deadline.
    var nextHeadExpired: Bool {
        get { nextHead == .expired }
        set { nextHead = newValue ? .expired : nil }
    }

    init(live: LiveResponder, signer: SignedURL?, maxURLLength: Int, answers: HeldAnswers?) {
        self.live = live
        self.signer = signer
        self.answers = answers
        self.maxURLLength = maxURLLength
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        var verdict: RawVerdict?
        if case .head(var request) = part {
            verdict = nextHead
            nextHead = nil
            // Only the raw path marks a request expired; clients cannot.
            if request.headerFields[Self.expiredField] != nil || verdict == .expired {
                request.headerFields[Self.expiredField] = verdict == .expired ? "1" : nil
                part = .head(request)
            }
        }
        guard holding == nil else {
            parked.append(part)
            if parked.count > Self.maximumBuffered { context.close(promise: nil) }
            return
        }
        if case .head(let request) = part {
            if inFlight == 0, verdict == nil, let hold = hold(for: request) {
                let bound = NIOLoopBound((gate: self, context: context), eventLoop: context.eventLoop)
                let ticket = hold.channel.held.hold(for: hold.channel.window, until: hold.deadline, hold.condition, on: context.eventLoop) { ready in
                    bound.value.gate.release(context: bound.value.context, ready: ready)
                }
                if let ticket {
                    holding = (hold.channel.held, ticket)
                    parked = [part]
                    answerable = answers?.resource(for: request, hold: hold, signed: signer != nil)
                    return
                }
            }
            inFlight += 1
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inFlight = max(0, inFlight - 1) }
        context.write(data, promise: promise)
    }

    /// The client half-closed while a request is parked: the end of its input reaches
    /// Hummingbird after the request does, else the connection would close unanswered.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if holding != nil, let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        forget()
        context.fireChannelInactive()
    }

    /// Runs when the connection closes (Hummingbird's state handler does not pass
    /// `channelInactive` on): a parked request is forgotten, not answered.
    func handlerRemoved(context: ChannelHandlerContext) {
        forget()
    }

    private func forget() {
        if let holding { holding.held.cancel(holding.ticket) }
        holding = nil
        parked = []
        answerable = nil
    }

    /// What the request waits for, when it is a GET or HEAD of a live LL-HLS playlist or part
    /// that must wait now (a signed URL only when its token is valid).
    private func hold(for request: HTTPRequest) -> LiveResponder.Hold? {
        guard request.method == .get || request.method == .head, let target = request.path else { return nil }
        return hold(target: target)
    }

    private func hold(target: String) -> LiveResponder.Hold? {
        guard target.utf8.count <= maxURLLength else { return nil }
        var path = target.prefix { $0 != "?" && $0 != "#" }
        // Only live paths can wait: others (VOD) go on before any token is verified.
        guard path.contains("/live/") else { return nil }
        if path.hasPrefix(SignedURL.prefix) {
            guard let signer, case .allowed(let plain) = signer.verify(path, now: UTCTime.now()) else { return nil }
            path = plain
        } else if signer != nil {
            return nil
        }
        guard path.hasPrefix("/live/") else { return nil }
        return live.pendingHold(raw: path.dropFirst("/live/".count), target: target)
    }

    /// For the raw path, a plain GET or HEAD of `target` (no Range, condition or body, kept
    /// alive) that must wait now: what it waits for and what it is answered with. Nil when it
    /// need not wait (the raw path then hands it to the router, and it is not looked at again
    /// when it passes here) or the router must answer it.
    func rawHold(target: String, isHead: Bool) -> (hold: LiveResponder.Hold, resource: HeldAnswers.Resource)? {
        guard let answers, signer == nil else { return nil }
        guard let hold = hold(target: target) else {
            nextHead = .needsNoHold
            return nil
        }
        guard let resource = answers.resource(hold: hold, isHead: isHead, closes: false) else { return nil }
        return (hold, resource)
    }

    /// The answer to a resource the raw path parked, now (nil: the router answers it).
    func rawAnswer(_ resource: HeldAnswers.Resource) -> HeldAnswers.Answer? {
        answers?.answer(resource)
    }

    /// What the parked request waited for is published (or its deadline passed): it goes on,
    /// with what was pipelined behind it.
    private func release(context: ChannelHandlerContext, ready: Bool) {
        guard holding != nil else { return }
        holding = nil
        var parts = parked
        parked = []
        let resource = answerable
        answerable = nil
        if !ready, case .head(var request) = parts.first {
            request.headerFields[Self.expiredField] = "1"
            parts[0] = .head(request)
        }
        guard context.channel.isActive else { return }
        if ready, let resource, parts.count >= 2, case .end = parts[1], answer(context, resource) {
            parts.removeFirst(2)
            // Requests after `Connection: close` are not answered (as Hummingbird does).
            if resource.closes { parts = [] }
        }
        // What was pipelined behind it goes on too (one that must wait waits in the router).
        for part in parts {
            if case .head = part { inFlight += 1 }
            context.fireChannelRead(wrapInboundOut(part))
        }
        if !parts.isEmpty { context.fireChannelReadComplete() }
        if inputClosed {
            inputClosed = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    /// Writes the answer to a released plain request (true), counted in the metrics as the
    /// router counts it; false when the router must answer it after all.
    private func answer(_ context: ChannelHandlerContext, _ resource: HeldAnswers.Resource) -> Bool {
        let start = ContinuousClock.now
        guard let answers, let answer = answers.answer(resource) else { return false }
        context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
        if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        if resource.closes {
            // As Hummingbird after such a request: the output ends once the answer is written.
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolatedUnsafeUnchecked().whenComplete { _ in
                context.close(mode: .output, promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        HeldAnswers.record(answer, isHead: resource.isHead, since: start)
        return true
    }
}
