import HTTPTypes
import KerfCore
import KerfManifest
import KerfPackager
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP
import KerfTestTags

/// The gate that parks blocking LL-HLS requests on the event loop, driven on an embedded channel
/// against a live channel's window filled by hand.
@Suite(.tags(.unit)) struct HeldRequestGateTests {
    /// A low-latency channel with one video rendition that has one segment published.
    static func channel() throws -> (LiveChannel, Presentation.Epoch) {
        var configuration = OriginConfiguration.Channel(input: "udp://127.0.0.1:1", segmentDuration: 2, window: 30)
        configuration.partDuration = 0.5
        let channel = try LiveChannel(name: "news", configuration: configuration, metrics: .unregistered(name: "news"),
                                      logger: Logger(label: "test"))
        return (channel, begin(channel))
    }

    /// Begins an epoch of one video rendition in `channel`'s window and publishes its first segment.
    static func begin(_ channel: LiveChannel) -> Presentation.Epoch {
        var info = TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
        info.codecString = "avc1.42c00c"
        let track = LivePackager.Track(number: 0, info: info, kind: .video, folder: "video", name: "video", language: nil)
        let epoch = channel.window.withLock { window in
            let epoch = window.beginEpoch(tracks: [track], start: window.nextEpochStart(now: 1_000_000), now: 1_000_000)
            window.addInit(folder: "video", epoch: epoch.id, bytes: [0], timescale: 90_000)
            return epoch
        }
        publishSegment(channel, epoch, index: 0)
        return epoch
    }

    static func publishSegment(_ channel: LiveChannel, _ epoch: Presentation.Epoch, index: Int64) {
        let segment = LivePackager.Segment(track: 0, start: epoch.start.rescaled(to: 90_000) + MediaTime(value: index * 180_000, timescale: 90_000),
                                           duration: MediaTime(value: 180_000, timescale: 90_000), bytes: [UInt8(index)])
        channel.window.withLock { window in
            window.addSegment(folder: "video", epoch: epoch.id, segment: segment, body: ByteBuffer(bytes: segment.bytes),
                              etag: LiveWindow.etag(segment.bytes))
        }
        channel.publish()
    }

    /// An active embedded channel with a gate for `live` (that answers released requests itself
    /// with `answers`), behind `front`.
    static func connection(_ live: LiveResponder, answers: HeldAnswers? = nil, front: [any ChannelHandler] = []) throws -> EmbeddedChannel {
        let embedded = EmbeddedChannel(handlers: front + [HeldRequestGate(live: live, signer: nil, maxURLLength: 4096, answers: answers)])
        try embedded.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return embedded
    }

    static func request(_ path: String, headers: HTTPFields = [:]) -> HTTPRequestPart {
        .head(HTTPRequest(method: .get, scheme: nil, authority: "kerf", path: path, headerFields: headers))
    }

    /// The request parts that went through the gate, as paths (heads) and "end".
    static func forwarded(_ embedded: EmbeddedChannel) throws -> [String] {
        var seen: [String] = []
        while let part = try embedded.readInbound(as: HTTPRequestPart.self) {
            switch part {
            case .head(let head): seen.append((head.path ?? "") + (head.headerFields[HeldRequestGate.expiredField].map { " expired=\($0)" } ?? ""))
            case .body: seen.append("body")
            case .end: seen.append("end")
            }
        }
        return seen
    }

    @Test func parksUntilPublishedThenHandsOnInOrder() throws {
        let (channel, epoch) = try Self.channel()
        let embedded = try Self.connection(LiveResponder(channels: ["news": channel]))
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }

        // Already published: goes on at once.
        try embedded.writeInbound(Self.request("/live/news/video/playlist.m3u8?_HLS_msn=\(next - 1)"))
        try embedded.writeInbound(HTTPRequestPart.end(nil))
        #expect(try Self.forwarded(embedded) == ["/live/news/video/playlist.m3u8?_HLS_msn=\(next - 1)", "end"])
        try embedded.writeOutbound(HTTPResponsePart.end(nil))

        // The segment being written: parked, with a request pipelined behind it (and a forged
        // expiry header, which the gate removes).
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        try embedded.writeInbound(Self.request(blocking, headers: [HeldRequestGate.expiredField: "1"]))
        try embedded.writeInbound(HTTPRequestPart.end(nil))
        try embedded.writeInbound(Self.request("/live/news/master.m3u8"))
        try embedded.writeInbound(HTTPRequestPart.end(nil))
        embedded.embeddedEventLoop.run()
        #expect(try Self.forwarded(embedded).isEmpty)
        #expect(channel.held.count == 1)

        // Publishing the segment releases it, with what was pipelined behind it.
        Self.publishSegment(channel, epoch, index: 1)
        embedded.embeddedEventLoop.run()
        #expect(try Self.forwarded(embedded) == [blocking, "end", "/live/news/master.m3u8", "end"])
        #expect(channel.held.count == 0)
    }

    /// A client that sends its request and half-closes gets it answered: the end of its input
    /// follows the parked request instead of overtaking it.
    @Test func halfCloseWaitsForTheParkedRequest() throws {
        let (channel, epoch) = try Self.channel()
        let embedded = try Self.connection(LiveResponder(channels: ["news": channel]))
        let recorder = EventRecorder<HTTPRequestPart>()
        try embedded.pipeline.syncOperations.addHandler(recorder)
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        try embedded.writeInbound(Self.request(blocking))
        try embedded.writeInbound(HTTPRequestPart.end(nil))
        embedded.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(recorder.events.isEmpty)
        Self.publishSegment(channel, epoch, index: 1)
        embedded.embeddedEventLoop.run()
        #expect(try Self.forwarded(embedded) == [blocking, "end"])
        #expect(recorder.events == ["\(ChannelEvent.inputClosed)"])
    }

    /// The head after one the raw path held until its deadline goes on marked and is not held
    /// again; the mark is for that head only.
    @Test func aHeadTheRawPathHeldUntilItsDeadlineGoesOnMarked() throws {
        let (channel, _) = try Self.channel()
        let gate = HeldRequestGate(live: LiveResponder(channels: ["news": channel]), signer: nil, maxURLLength: 4096, answers: nil)
        let embedded = EmbeddedChannel(handler: gate)
        try embedded.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)"
        gate.nextHeadExpired = true
        try embedded.writeInbound(Self.request(blocking))
        try embedded.writeInbound(HTTPRequestPart.end(nil))
        #expect(channel.held.count == 0)
        #expect(!gate.nextHeadExpired)
        #expect(try Self.forwarded(embedded) == [blocking + " expired=1", "end"])
        try embedded.writeOutbound(HTTPResponsePart.end(nil))
        // The next one waits as any other.
        try embedded.writeInbound(Self.request(blocking))
        #expect(channel.held.count == 1)
        #expect(try Self.forwarded(embedded).isEmpty)
        _ = try embedded.finish()
        #expect(channel.held.count == 0)
    }

    @Test func expiredRequestsGoOnMarkedAndGoneClientsAreForgotten() throws {
        let (channel, _) = try Self.channel()
        let live = LiveResponder(channels: ["news": channel])
        let next = channel.window.withLock { $0.nextSequence(of: "video")! }
        let blocking = "/live/news/video/playlist.m3u8?_HLS_msn=\(next)&_HLS_part=1"

        let expiring = try Self.connection(live)
        try expiring.writeInbound(Self.request(blocking))
        #expect(channel.held.count == 1)
        channel.held.expire(now: .now + .seconds(60))
        expiring.embeddedEventLoop.run()
        #expect(try Self.forwarded(expiring) == [blocking + " expired=1"])

        let leaving = try Self.connection(live)
        try leaving.writeInbound(Self.request(blocking))
        #expect(channel.held.count == 1)
        _ = try leaving.finish()
        #expect(channel.held.count == 0)

        // Not parked: a request the spec refuses (the router answers 400), a VOD path, a POST.
        let passing = try Self.connection(live)
        for path in ["/live/news/video/playlist.m3u8?_HLS_msn=\(next + 10)", "/vod/news/video/playlist.m3u8?_HLS_msn=\(next)"] {
            try passing.writeInbound(Self.request(path))
            #expect(try Self.forwarded(passing) == [path])
            try passing.writeOutbound(HTTPResponsePart.end(nil))
        }
        try passing.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "kerf", path: blocking)))
        #expect(try Self.forwarded(passing) == [blocking])
        #expect(channel.held.count == 0)
    }
}
