import KerfLive
import Hummingbird
import HummingbirdCore
import KerfCore
import NIOCore

/// Serves live channels: `/live/<channel>/master.m3u8`, `/live/<channel>/manifest.mpd`,
/// `/live/<channel>/<rendition>/playlist.m3u8`, `…/init_<epoch>.mp4` and `…/seg_<time>.m4s`,
/// all from memory.
///
/// Caching for CDNs: segments and init segments never change once published (immutable, one
/// year); playlists and the MPD may be cached half a target duration at most; a segment that
/// does not exist yet (or any other live 404) for one second.
struct LiveResponder: Sendable {
    let channels: [String: LiveChannel]

    func respond(to request: Request, raw: Substring) async -> Response {
        let parts = raw.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, let channel = channels[String(parts[0])] else {
            return VODResponder.error(.notFound, "no such channel", maxAge: 1)
        }
        let rest = parts.dropFirst().joined(separator: "/")
        let manifestCache = Self.manifestCacheControl(channel)
        switch rest {
        case "manifest.mpd":
            let host = Self.host(request)
            // Behind a TLS-terminating CDN or proxy the clock is fetched over https too.
            let scheme = request.headers[.init("X-Forwarded-Proto")!] == "https" ? "https" : "http"
            guard let mpd = channel.window.withLock({ $0.mpd }) else {
                let why = channel.configuration.formats.contains(.dash) ? "the channel has not started" : "the channel does not publish DASH"
                return VODResponder.error(.notFound, why, maxAge: 1)
            }
            let url = "\(scheme)://\(host)/time"
            var body = ByteBuffer()
            body.writeString(mpd.head)
            body.writeString(url)
            body.writeString(mpd.tail)
            let etag = String(mpd.etag.dropLast()) + "-" + LiveWindow.etag(Array(url.utf8)).dropFirst()
            return Self.respond(request, body: body, etag: etag, type: "application/dash+xml", cacheControl: manifestCache, ranges: false)
        case _ where rest.hasSuffix(".m3u8"):
            var key = rest
            if channel.configuration.partDuration != nil, rest.hasSuffix("/playlist.m3u8") {
                // LL-HLS: blocking reload (_HLS_msn, _HLS_part) and delta updates (_HLS_skip).
                let query = request.uri.queryParameters
                let folder = String(rest.dropLast("/playlist.m3u8".count))
                switch Self.blockingReload(channel, folder: folder, msn: query["_HLS_msn"].map(String.init),
                                           part: query["_HLS_part"].map(String.init)) {
                case .none: break
                case .refused(let status, let message, let maxAge): return VODResponder.error(status, message, maxAge: maxAge)
                case .wait(let hold):
                    if !(await wait(hold, request)) {
                        return VODResponder.error(.serviceUnavailable, "segment \(query["_HLS_msn"] ?? "") was not published in time", maxAge: nil)
                    }
                }
                key = Self.playlistDocument(rest, skip: query["_HLS_skip"])
            }
            guard let document = channel.window.withLock({ $0.documents[key] }) else {
                return VODResponder.error(.notFound, "the channel has not started or has no such playlist", maxAge: 1)
            }
            return Self.respond(request, body: document.body, etag: document.etag, type: "application/vnd.apple.mpegurl",
                                cacheControl: manifestCache, ranges: false)
        default:
            break
        }
        // <rendition>/init_<epoch>.mp4, <rendition>/seg_<time>.m4s, ts_<rendition>/seg_<time>.ts or text_<…>/seg_<time>.vtt
        guard parts.count == 3 else { return VODResponder.error(.notFound, "not found", maxAge: 1) }
        let folder = String(parts[1]), file = parts[2]
        let (audio, transport) = channel.window.withLock { $0.kind(of: folder) } ?? (false, false)
        let text = channel.window.withLock { $0.isText(folder) }
        let type = text ? "text/vtt; charset=utf-8" : transport ? "video/mp2t" : audio ? "audio/mp4" : "video/mp4"
        let suffix = text ? ".vtt" : transport ? ".ts" : ".m4s"
        if !transport, file.hasPrefix("init_"), file.hasSuffix(".mp4") {
            let name = String(file)
            let found = channel.window.withLock { $0.initSegment(folder: folder, name: name) }
            guard let found else {
                return VODResponder.error(.notFound, "no such init segment", maxAge: 1)
            }
            return Self.respond(request, body: found.body, etag: found.etag, type: type, cacheControl: Self.immutable)
        }
        if !transport, file.hasPrefix("part_"), file.hasSuffix(".m4s") {
            guard let (start, index) = Self.partName(file) else { return VODResponder.error(.notFound, "not found", maxAge: 1) }
            // The part the preload hint names is answered the moment it exists.
            if let hold = Self.hintedPart(channel, folder: folder, start: start, index: index) { _ = await wait(hold, request) }
            guard let found = channel.window.withLock({ $0.part(folder: folder, segmentStart: start, index: index) }) else {
                return VODResponder.error(.notFound, "no such part", maxAge: 1)
            }
            return Self.respond(request, body: found.body, etag: found.etag, type: type, cacheControl: Self.immutable)
        }
        if file.hasPrefix("seg_"), file.hasSuffix(suffix), let start = Int64(file.dropFirst(4).dropLast(suffix.count)) {
            let (found, future) = channel.window.withLock { ($0.segment(folder: folder, start: start), $0.isFuture(folder: folder, start: start)) }
            if found == nil, !transport, !text, channel.configuration.partDuration != nil,
               let chunked = chunkedSegment(channel, folder: folder, start: start, type: type, request: request) {
                return chunked
            }
            guard let found else {
                return VODResponder.error(.notFound, future ? "segment not available yet" : "segment left the window", maxAge: 1)
            }
            if let body = found.stored.body {
                return Self.respond(request, body: body, etag: found.stored.etag, type: type, cacheControl: Self.immutable)
            }
            // Older than the archive's memory horizon: from the archive's file.
            guard let archive = channel.archiveRoot,
                  case .success(let stored) = await OpenFile.open(raw: Substring("\(folder)/\(file)"), root: archive) else {
                return VODResponder.error(.notFound, "segment left the window", maxAge: 1)
            }
            return Self.respond(request, size: stored.size, etag: found.stored.etag, type: type, cacheControl: Self.immutable) { stored.body($0) }
        }
        return VODResponder.error(.notFound, "not found", maxAge: 1)
    }

    static let immutable = "public, max-age=31536000, immutable"

    /// Cache-Control of a channel's playlists and MPD: half a target duration at most.
    static func manifestCacheControl(_ channel: LiveChannel) -> String {
        "public, max-age=\(max(0, Int(channel.configuration.segmentDuration / 2)))"
    }

    /// The window document that answers an LL-HLS media playlist request for `playlist`
    /// (`<rendition>/playlist.m3u8`): the delta update when `_HLS_skip` asks for one.
    static func playlistDocument(_ playlist: String, skip: Substring?) -> String {
        skip == "YES" || skip == "v2" ? playlist + "?skip" : playlist
    }

    /// LL-DASH: the segment being written, sent with chunked transfer encoding part by part as
    /// the parts are made, ending with the segment (its parts put end to end are the segment).
    /// Nil when `start` is not the segment in progress.
    private func chunkedSegment(_ channel: LiveChannel, folder: String, start: Int64, type: String, request: Request) -> Response? {
        let inProgress = channel.window.withLock { $0.inProgress(folder: folder)?.start == start }
        guard inProgress else { return nil }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = Self.immutable
        if request.method == .head { return Response(status: .ok, headers: headers) }
        let limit = Duration.seconds(3 * max(1, channel.configuration.segmentDuration))
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let deadline = ContinuousClock.now + limit
            var next = 0
            while true {
                let (parts, complete) = channel.window.withLock { window -> ([ByteBuffer], Bool) in
                    (window.parts(folder: folder, segmentStart: start, from: next), window.segment(folder: folder, start: start) != nil)
                }
                for part in parts { try await writer.write(part) }
                next += parts.count
                if complete { break }
                let more = await channel.held.wait(for: channel.window, until: deadline, .part(folder: folder, segmentStart: start, index: next))
                if !more { break }
            }
            try await writer.finish(nil)
        })
    }

    /// The segment start and index of a part's file name, `part_<start>_<index>.m4s`.
    static func partName(_ file: Substring) -> (start: Int64, index: Int)? {
        guard file.hasPrefix("part_"), file.hasSuffix(".m4s") else { return nil }
        let fields = file.dropFirst(5).dropLast(4).split(separator: "_")
        guard fields.count == 2, let start = Int64(fields[0]), let index = Int(fields[1]) else { return nil }
        return (start, index)
    }

    /// What a request waits for before it is answered: a publication in `channel` that meets
    /// `condition`, until `deadline`.
    struct Hold: Sendable {
        let channel: LiveChannel
        let deadline: ContinuousClock.Instant
        let condition: HeldRequests.Condition
        /// For a blocking playlist reload, the window document it is answered with once released.
        var document: String?
    }

    /// How a playlist request with LL-HLS query parameters is answered.
    enum BlockingReload {
        /// Not a blocking request: answered with the playlist as it is.
        case none
        /// Parameters the spec refuses, a playlist that does not exist.
        case refused(HTTPResponse.Status, String, maxAge: Int?)
        case wait(Hold)
    }

    /// A blocking playlist reload (RFC 8216bis §6.2.5.2) waits until segment `msn` (or its
    /// part `part`) is published, up to three target durations (then 503); 400 for parameters
    /// the spec refuses.
    static func blockingReload(_ channel: LiveChannel, folder: String, msn: String?, part: String?) -> BlockingReload {
        guard let msn else {
            return part == nil ? .none : .refused(.badRequest, "_HLS_part needs _HLS_msn", maxAge: nil)
        }
        guard let sequence = UInt64(msn), part.map({ Int($0).map { $0 >= 0 } ?? false }) ?? true else {
            return .refused(.badRequest, "_HLS_msn and _HLS_part must be whole numbers", maxAge: nil)
        }
        let partIndex = part.flatMap { Int($0) }
        let (next, target) = channel.window.withLock { ($0.nextSequence(of: folder), $0.targetDuration) }
        guard let next else { return .refused(.notFound, "no such playlist", maxAge: 1) }
        // More than two segments ahead of the one being written: the client is lost.
        if sequence > next + 2 {
            return .refused(.badRequest, "_HLS_msn \(sequence) is too far beyond the live edge (\(next))", maxAge: nil)
        }
        return .wait(Hold(channel: channel, deadline: ContinuousClock.now + .seconds(3 * target),
                          condition: .published(folder: folder, sequence: sequence, part: partIndex)))
    }

    /// A request for the part the preload hint names (the next part of the segment being
    /// written) waits until the part exists, or its segment ends without it (then 404 at once).
    /// Nil for any other part.
    static func hintedPart(_ channel: LiveChannel, folder: String, start: Int64, index: Int) -> Hold? {
        let hinted = channel.window.withLock { window -> Bool in
            guard let progress = window.inProgress(folder: folder) else { return false }
            return progress.start == start && progress.parts == index
        }
        guard hinted else { return nil }
        return Hold(channel: channel, deadline: ContinuousClock.now + .seconds(3 * max(1, channel.configuration.segmentDuration)),
                    condition: .part(folder: folder, segmentStart: start, index: index))
    }

    /// The request that may make `live/<raw>` wait (what the gate parks unless `HeldRequests`
    /// finds its condition met already).
    /// - Parameter target: the request target, whose query a playlist request reads.
    func pendingHold(raw: Substring, target: String) -> Hold? {
        let parts = raw.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let channel = channels[String(parts[0])], channel.configuration.partDuration != nil else { return nil }
        let folder = String(parts[1]), file = parts[2]
        if file == "playlist.m3u8" {
            let parameters = URI(target).queryParameters
            guard case .wait(var wait) = Self.blockingReload(channel, folder: folder, msn: parameters["_HLS_msn"].map(String.init),
                                                             part: parameters["_HLS_part"].map(String.init)) else { return nil }
            wait.document = Self.playlistDocument("\(folder)/playlist.m3u8", skip: parameters["_HLS_skip"])
            return wait
        }
        return Self.partName(file).flatMap { Self.hintedPart(channel, folder: folder, start: $0.start, index: $0.index) }
    }

    /// Waits for a hold (true when what it waits for is published). A request the gate held
    /// until its deadline is not held again.
    private func wait(_ hold: Hold, _ request: Request) async -> Bool {
        if request.headers[HeldRequestGate.expiredField] != nil { return hold.channel.window.withLock { hold.condition.isMet(in: $0) } }
        return await hold.channel.held.wait(for: hold.channel.window, until: hold.deadline, hold.condition)
    }

    /// A full or partial (Range) response for an in-memory resource, with conditional GET.
    /// - Parameter ranges: false for a live playlist or MPD, which changes in place: it is
    ///   always sent whole, with `Accept-Ranges: none`. A browser's HTTP cache that keeps part
    ///   of one version otherwise asks for the rest of the next (Chromium sends `Range: bytes=N-`
    ///   with no If-Range after a 206 to its revalidation), and joins two versions when the
    ///   playlist changes in between.
    static func respond(_ request: Request, body: ByteBuffer, etag: String, type: String, cacheControl: String,
                        ranges: Bool = true) -> Response {
        respond(request, size: body.readableBytes, etag: etag, type: type, cacheControl: cacheControl, ranges: ranges) { part in
            .init(byteBuffer: body.getSlice(at: body.readerIndex + part.lowerBound, length: part.count)!)
        }
    }

    /// The same for a resource of `size` bytes whose ranges `body` makes.
    static func respond(_ request: Request, size: Int, etag: String, type: String, cacheControl: String, ranges: Bool = true,
                        body: @escaping @Sendable (ClosedRange<Int>) -> ResponseBody) -> Response {
        let headers = representationHeaders(etag: etag, type: type, cacheControl: cacheControl, ranges: ranges)
        if VODResponder.notModified(request, etag: etag, modified: Int64.max) { return VODResponder.notModifiedResponse(headers) }
        return RangeRequest.response(to: request, size: size, headers: headers, body: body)
    }

    /// The headers of an in-memory resource's representation, before its length and the
    /// server's own (CORS, Date, Server).
    static func representationHeaders(etag: String, type: String, cacheControl: String, ranges: Bool = true) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = cacheControl
        headers[.eTag] = etag
        headers[.acceptRanges] = ranges ? "bytes" : "none"
        return headers
    }

    /// The Host header when it is a plain host[:port], else the loopback default.
    static func host(_ request: Request) -> String {
        let host = request.head.authority ?? ""
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
        }
        return !host.isEmpty && host.utf8.count <= 255 && allowed ? host : "localhost"
    }
}
