import HTTPTypes
import KerfCore
import KerfLive
import NIOCore
import Synchronization

/// The answers a `HeldRequestGate` writes itself when what its parked request waits for is
/// published: the same response the router would give (status, headers in the router's order,
/// body), made once per distinct answer (channel, window document or part, GET or HEAD) and per
/// second (its Date), and written to every connection waiting for it with the body's bytes
/// shared, not copied. A publication releasing 10,000 requests thus costs 10,000 writes, not
/// 10,000 router passes and playlist lookups.
///
/// Only plain requests are answered this way: GET or HEAD without a body, Range or conditional
/// headers, on an origin without signed URLs (a token may expire while its request is held),
/// with a `Connection` header that is absent, `keep-alive` or `close`. The rest go on to the
/// router as before.
final class HeldAnswers: Sendable {
    /// What a parked request is answered with, decided when it is parked.
    struct Resource: Sendable {
        enum Kind: Sendable {
            /// A window document (a blocking playlist reload).
            case document(String)
            /// A part (the preload-hinted part).
            case part(folder: String, segmentStart: Int64, index: Int)
        }

        let channel: LiveChannel
        let kind: Kind
        let isHead: Bool
        /// The client asked for the connection to close after the answer.
        let closes: Bool
        /// The answer's key in the cache.
        let key: Key
    }

    /// An answer's channel, resource and method.
    struct Key: Hashable, Sendable {
        let channel: ObjectIdentifier
        let name: String
        let isHead: Bool
    }

    /// A response ready to write: its head and, for a GET of a non-empty resource, its body.
    struct Answer: Sendable {
        let head: HTTPResponse
        /// The head as HTTP/1.1 bytes, blank line included (for `RawRequestResponder`).
        let rawHead: ByteBuffer
        let body: ByteBuffer?
    }

    private struct Entry {
        let etag: String
        let second: Int64
        let answer: Answer
    }

    /// Answers kept at most (parts come and go: the oldest are not looked for again).
    static let capacity = 256

    private let cors: Bool
    private let entries = Mutex<[Key: Entry]>([:])
    private let given = Atomic<Int>(0)

    /// Answers given so far.
    var count: Int { given.load(ordering: .relaxed) }

    init(cors: Bool) {
        self.cors = cors
    }

    /// The headers a request may carry to be answered here: none that asks for a part of the
    /// answer, a condition or a body.
    private static let routerFields: [HTTPField.Name] = [
        .range, .ifRange, .ifNoneMatch, .ifMatch, .ifModifiedSince, .ifUnmodifiedSince, .contentLength, .transferEncoding,
    ]

    /// What `request`, parked for `hold`, is answered with here once released; nil when the
    /// router must answer it.
    /// - Parameter signed: the origin requires signed URLs.
    func resource(for request: HTTPRequest, hold: LiveResponder.Hold, signed: Bool) -> Resource? {
        guard !signed, request.method == .get || request.method == .head,
              !Self.routerFields.contains(where: { request.headerFields[$0] != nil }) else { return nil }
        let connection = request.headerFields[values: .connection]
        guard connection.isEmpty || connection == ["keep-alive"] || connection == ["close"] else { return nil }
        return resource(hold: hold, isHead: request.method == .head, closes: connection == ["close"])
    }

    /// What a plain GET or HEAD parked for `hold` is answered with (nil: the router answers).
    func resource(hold: LiveResponder.Hold, isHead: Bool, closes: Bool) -> Resource? {
        let kind: Resource.Kind
        let name: String
        switch hold.condition {
        case .published:
            guard let document = hold.document else { return nil }
            kind = .document(document)
            name = document
        case .part(let folder, let start, let index):
            kind = .part(folder: folder, segmentStart: start, index: index)
            name = "\(folder)/part_\(start)_\(index).m4s"
        }
        return Resource(channel: hold.channel, kind: kind, isHead: isHead, closes: closes,
                        key: Key(channel: ObjectIdentifier(hold.channel), name: name, isHead: isHead))
    }

    /// The answer to `resource` now; nil when the window no longer has it (the router then
    /// answers 404 as it would have).
    func answer(_ resource: Resource) -> Answer? {
        let channel = resource.channel
        let found: (body: ByteBuffer, etag: String, type: String, cacheControl: String)?
        switch resource.kind {
        case .document(let name):
            found = channel.window.withLock { $0.documents[name] }.map {
                ($0.body, $0.etag, "application/vnd.apple.mpegurl", LiveResponder.manifestCacheControl(channel))
            }
        case .part(let folder, let start, let index):
            found = channel.window.withLock { window in
                // As the router: parts of CMAF renditions only.
                let kind = window.kind(of: folder) ?? (false, false)
                guard !kind.transportStream, let part = window.part(folder: folder, segmentStart: start, index: index) else { return nil }
                return (part.body, part.etag, kind.audio ? "audio/mp4" : "video/mp4", LiveResponder.immutable)
            }
        }
        guard let found else { return nil }
        given.add(1, ordering: .relaxed)
        let second = Int64(UTCTime.now())
        if let entry = entries.withLock({ $0[resource.key] }), entry.etag == found.etag, entry.second == second {
            return entry.answer
        }
        // The router's response: LiveResponder's headers, Content-Length, the guard's CORS
        // headers, then Hummingbird's Date and Server.
        // A playlist changes in place and is always sent whole (LiveResponder.respond).
        let ranges = if case .document = resource.kind { false } else { true }
        var headers = LiveResponder.representationHeaders(etag: found.etag, type: found.type, cacheControl: found.cacheControl, ranges: ranges)
        headers[.contentLength] = String(found.body.readableBytes)
        if cors { VODResponder.addCORS(to: &headers) }
        headers[.date] = UTCTime.httpDate(second)
        headers[.server] = OriginServer.serverName
        let answer = Answer(head: HTTPResponse(status: .ok, headerFields: headers), rawHead: RawHead.ok(headers, ended: true),
                            body: resource.isHead || found.body.readableBytes == 0 ? nil : found.body)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[resource.key] = Entry(etag: found.etag, second: second, answer: answer)
        }
        return answer
    }

    /// Counts an answer written by the gate or the raw path in the metrics, as the router
    /// counts its own.
    static func record(_ answer: Answer, isHead: Bool, since start: ContinuousClock.Instant) {
        let size = answer.body?.readableBytes ?? 0
        if size > 0 { OriginMetrics.bytesServed["live"]?.increment(by: Int64(size)) }
        OriginMetrics.requests.record(route: "/live/**", method: isHead ? .head : .get, status: 200, duration: ContinuousClock.now - start)
    }
}
