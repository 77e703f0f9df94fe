import KerfCore
import NIOCore

/// The origin's fastest path, on raw bytes in front of the HTTP decoder: a plain
/// `GET`/`HEAD /vod/… HTTP/1.1` of a file the `FileCache` holds whole is answered with its
/// response head made once (`ServedFile.rawHead`) and the cached bytes, without decoding the
/// request into HTTP types or encoding the response. Pipelined requests in one read are all
/// answered this way, in order.
///
/// Any other `GET` or `HEAD` (a Range, a conditional or gzip request, a miss, a live or other
/// path, a socket that takes no more) goes on to NIO's decoder and Hummingbird alone, and the
/// requests after it wait until the router has answered it, so answers keep their order. What
/// this path cannot frame (another method, a body, HTTP/1.0, `Connection` other than
/// keep-alive, bare-LF lines, control bytes, a head over 8 KiB or max-header-size) hands the
/// connection to the decoder for good, from that request's first byte.
///
/// Requests answered here never reach Hummingbird's connection state handler, so the idle
/// timeout is kept here instead (from `ConnectionActivity`), and graceful shutdown waits until
/// the socket has taken the responses written here before it reaches the state handler.
final class RawRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The longest request head looked at here (longer ones are the decoder's to refuse).
    private let maximumHead: Int

    private let vod: VODResponder
    private let activity: ConnectionActivity
    private let idleTimeout: TimeAmount
    /// The connection has been handed on to the decoder for good.
    private var handedOn = false
    /// A request went to the router alone: what follows waits for its answer.
    private var waitingForRouter = false
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
    private var idleCheck: Scheduled<Void>?
    private var date = DateHeader()

    init(vod: VODResponder, activity: ConnectionActivity, idleTimeout: TimeAmount) {
        self.vod = vod
        self.activity = activity
        self.idleTimeout = idleTimeout
        maximumHead = min(8192, vod.configuration.maxHeaderSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        activity.touch(context.eventLoop.now)
        let loop = context.eventLoop, bound = NIOLoopBound((responder: self, context: context), eventLoop: loop)
        // Called as the router's response ends: looked at once that write is done.
        activity.routerAnswered = { loop.execute { bound.value.responder.routerAnswered(bound.value.context) } }
        scheduleIdleCheck(context, in: idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        activity.routerAnswered = nil
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
        if waitingForRouter {
            // Kept until the router has answered; a client that pipelines this much more is
            // the decoder's from now on.
            if input.readableBytes > Self.maximumWaiting { handOnForGood(context) }
            return
        }
        process(context, inRead: true)
    }

    /// Answers the complete heads buffered, in order, until one must go to the router.
    private func process(_ context: ChannelHandlerContext, inRead: Bool) {
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
            guard case .other = kind else {
                // A GET or HEAD without a body: this request alone goes to the router; what
                // follows waits for its answer.
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
    /// idle timeout): Hummingbird closes the connection on either.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { quiescing = true }
        let inputClosed = (event as? ChannelEvent) == .inputClosed
        guard !handedOn, event is ChannelShouldQuiesceEvent || inputClosed else { return context.fireUserInboundEventTriggered(event) }
        heldEvents.append(event)
        if heldEvents.count == 1 { releaseHeldEvents(context, until: context.eventLoop.now + idleTimeout) }
    }

    /// Passes the held events on once nothing written here is unsent and nothing waits.
    private func releaseHeldEvents(_ context: ChannelHandlerContext, until deadline: NIODeadline? = nil) {
        guard !heldEvents.isEmpty else { return }
        if let deadline { heldUntil = deadline }
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
        for event in events { context.fireUserInboundEventTriggered(event) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    /// Whether a line of `buffer` ends with an LF that has no CR before it.
    static func hasBareLineFeed(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            bytes.indices.contains { bytes[$0] == 10 && ($0 == 0 || bytes[$0 - 1] != 13) }
        }
    }

    /// Whether `buffer` can be the start of a request line: a method (token characters) not yet
    /// followed by anything but a space. Empty lines before the request line are allowed.
    static func canStartRequest(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            var index = bytes.startIndex
            while index < bytes.endIndex, bytes[index] == 13 || bytes[index] == 10 { index += 1 }
            let method = index
            while index < bytes.endIndex, isTokenByte(bytes[index]) { index += 1 }
            guard index < bytes.endIndex else { return true }
            return index > method && bytes[index] == UInt8(ascii: " ")
        }
    }

    /// The length of the request head at the start of `buffer` (through its blank line), or
    /// nil when it has not all arrived.
    static func headLength(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= 4 else { return nil }
            var index = 3
            while index < bytes.count {
                if bytes[index] == 10 {
                    if bytes[index - 1] == 13, bytes[index - 2] == 10, bytes[index - 3] == 13 { return index + 1 }
                    index += 1
                } else {
                    // The blank line's LF is at least 4 bytes on when this byte is no CR or LF.
                    index += bytes[index] == 13 ? 1 : 4
                }
            }
            return nil
        }
    }

    /// The file to send for a plain request of `path`, when the cache holds it whole and the
    /// client does not take a gzip answer instead.
    private func answerable(_ path: Substring, isHead: Bool, acceptEncoding: String?) -> ServedFile? {
        // A HEAD does not claim the refresh of an expired entry (it reads no bytes to cache).
        vod.fastServed(path, acceptEncoding: acceptEncoding, stale: !isHead)
    }

    /// What a request head is to this path.
    enum Head: Equatable {
        /// `GET` or `HEAD /vod/…` with no header that changes the answer or the connection:
        /// answered here when the cache holds the file.
        case plain(path: Substring, isHead: Bool, acceptEncoding: String?)
        /// Another `GET` or `HEAD` without a body: the router answers it alone.
        case single
        /// Anything else (another method, a body, HTTP/1.0, a malformed head).
        case other
    }

    /// Classifies a head: HTTP/1.1, CRLF lines, an origin-form target of visible ASCII.
    static func parse(_ head: UnsafeRawBufferPointer, maxURLLength: Int) -> Head {
        var lines = head.split(separator: 10, omittingEmptySubsequences: false)
        // The blank line and the empty remainder after its LF.
        guard lines.count >= 3 else { return .other }
        lines.removeLast(2)
        // CRLF line ends, at most 100 header lines, no control bytes but HT inside a line.
        guard lines.count <= 101 else { return .other }
        for line in lines {
            guard line.last == 13 else { return .other }
            guard line.dropLast().allSatisfy({ ($0 >= 32 && $0 != 127) || $0 == 9 }) else { return .other }
        }
        let requestLine = lines[0].dropLast()
        let isHead: Bool
        if requestLine.starts(with: "GET /".utf8) {
            isHead = false
        } else if requestLine.starts(with: "HEAD /".utf8) {
            isHead = true
        } else {
            return .other
        }
        let targetStart = requestLine.startIndex + (isHead ? 5 : 4)
        guard let space = requestLine[targetStart...].firstIndex(of: 32),
              requestLine[(space + 1)...].elementsEqual("HTTP/1.1".utf8) else { return .other }
        let target = requestLine[targetStart..<space]
        guard target.allSatisfy({ $0 > 32 && $0 < 127 }) else { return .other }
        var plain = target.starts(with: "/vod/".utf8) && target.count <= maxURLLength
        var acceptEncoding: String?
        for line in lines.dropFirst() {
            let field = line.dropLast()
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > field.startIndex,
                  field[field.startIndex] != 32, field[field.startIndex] != 9 else { return .other }
            let name = field[..<colon]
            guard name.allSatisfy(Self.isTokenByte) else { return .other }
            switch Self.role(of: name) {
            case .framing:
                return .other
            case .conditional:
                plain = false
            case .connection:
                // keep-alive is HTTP/1.1's default; close (or anything else) is the decoder's,
                // with everything after it.
                let value = String(decoding: UnsafeRawBufferPointer(rebasing: field[(colon + 1)...]), as: UTF8.self)
                guard value.lowercased().trimming(while: { $0 == " " || $0 == "\t" }) == "keep-alive" else { return .other }
            case .acceptEncoding:
                acceptEncoding = String(decoding: UnsafeRawBufferPointer(rebasing: field[(colon + 1)...]), as: UTF8.self)
            case nil:
                break
            }
        }
        guard plain else { return .single }
        // The path stops at a query or fragment.
        let pathEnd = target.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.endIndex
        let path = Substring(decoding: UnsafeRawBufferPointer(rebasing: target[(targetStart + "/vod/".utf8.count)..<pathEnd]), as: UTF8.self)
        return .plain(path: path, isHead: isHead, acceptEncoding: acceptEncoding)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
             UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "^"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// What a header field means to the fast path.
    private enum FieldRole {
        /// A body or a protocol change: the decoder's.
        case framing
        /// Ranges, conditions, transfer codings: the router's.
        case conditional
        case connection, acceptEncoding
    }

    /// The header names the fast path looks at, lower-case.
    private static let fieldRoles: [(name: [UInt8], role: FieldRole)] = {
        let roles: [(String, FieldRole)] = [
            ("content-length", .framing), ("transfer-encoding", .framing), ("upgrade", .framing), ("expect", .framing),
            ("range", .conditional), ("if-range", .conditional), ("if-none-match", .conditional), ("if-match", .conditional),
            ("if-modified-since", .conditional), ("if-unmodified-since", .conditional), ("te", .conditional),
            ("connection", .connection), ("accept-encoding", .acceptEncoding),
        ]
        return roles.map { (Array($0.0.utf8), $0.1) }
    }()

    /// The role of header `name`, compared without regard to ASCII case and without copying it.
    private static func role(of name: Slice<UnsafeRawBufferPointer>) -> FieldRole? {
        fieldRoles.first { known in
            known.name.count == name.count && zip(known.name, name).allSatisfy { $0 == ($1 >= 65 && $1 <= 90 ? $1 + 32 : $1) }
        }?.role
    }

    private func respond(_ context: ChannelHandlerContext, served: ServedFile, isHead: Bool) {
        let start = ContinuousClock.now
        date.refresh()
        var head = served.rawHead!
        head.writeString(date.lastLine)
        context.write(wrapOutboundOut(head), promise: nil)
        if !isHead {
            context.write(wrapOutboundOut(served.file.contents!), promise: nil)
            OriginMetrics.bytesServed["vod"]?.increment(by: Int64(served.file.size))
        }
        OriginMetrics.requests.record(route: "/vod/**", method: isHead ? .head : .get, status: 200, duration: ContinuousClock.now - start)
    }

    /// Closes the connection once nothing has happened on it for the idle timeout: no request
    /// being answered (here or by the router) and none started since.
    private func scheduleIdleCheck(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        idleCheck = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [self] in
            idleCheck = nil
            let now = context.eventLoop.now
            // Bytes still unsent but moving keep the connection busy; stuck ones do not.
            let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            if buffered != lastBuffered {
                lastBuffered = buffered
                if buffered > 0 { activity.touch(now) }
            }
            let due = activity.last + idleTimeout
            if activity.inFlight == 0, !waitingForRouter, due <= now {
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context, in: max(due - now, .milliseconds(100)))
            }
        }
    }
}
