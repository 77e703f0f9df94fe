import Foundation
import Glibc
import KerfTestSupport
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP
import KerfTestTags

/// The raw-bytes fast path on an embedded channel: what it answers itself, what it hands on to
/// the HTTP decoder (one request, or the connection for good), and its idle timeout.
@Suite(.tags(.unit)) struct RawRequestResponderTests {
    static let body = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-ENDLIST\n"

    /// A VOD responder whose cache holds `pkg/a.m3u8`.
    static func responder() async throws -> VODResponder {
        let root = try Fixtures.temporaryDirectory("kerf-raw")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("pkg"), withIntermediateDirectories: true)
        try body.write(to: root.appendingPathComponent("pkg/a.m3u8"), atomically: true, encoding: .utf8)
        var configuration = OriginConfiguration()
        configuration.root = root.path
        let vod = VODResponder(root: root.path, configuration: configuration)
        guard case .success(let file) = await OpenFile.open(raw: "pkg/a.m3u8", root: vod.root, wholeUpTo: 1 << 20) else {
            throw CommandError(message: "cannot open the test file")
        }
        vod.cache.store("pkg/a.m3u8", ServedFile(file: file, path: "pkg/a.m3u8", configuration: configuration))
        return vod
    }

    static func channel(_ vod: VODResponder, activity: ConnectionActivity = ConnectionActivity(), sendsFiles: Bool = false) throws -> EmbeddedChannel {
        let responder = RawRequestResponder(vod: vod, activity: activity, idleTimeout: .seconds(30), sendsFiles: sendsFiles)
        let channel = EmbeddedChannel(handler: responder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    /// Everything written to the client, as text.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { text += buffer.readString(length: buffer.readableBytes) ?? "" }
        return text
    }

    /// Everything handed on to the decoder, as text.
    static func handedOn(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readInbound(as: ByteBuffer.self) { text += buffer.readString(length: buffer.readableBytes) ?? "" }
        return text
    }

    @Test func answersPlainRequestsAndHandsOnTheRestInOrder() async throws {
        let vod = try await Self.responder()
        let activity = ConnectionActivity()
        let channel = try Self.channel(vod, activity: activity)
        let range = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n"
        let after = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: "GET /vod/pkg/a.m3u8?v=1 HTTP/1.1\r\nHost: kerf\r\nUser-Agent: test\r\n\r\n"
                                            + "HEAD /vod/pkg/a.m3u8 HTTP/1.1\r\nhost: kerf\r\n\r\n" + range + after))
        let out = try Self.written(channel)
        let responses = out.components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst()
        #expect(responses.count == 2, "\(out)")
        let get = try #require(responses.first), head = try #require(responses.last)
        #expect(get.contains("Content-Type: application/vnd.apple.mpegurl\r\n"))
        #expect(get.contains("Content-Length: \(Self.body.utf8.count)\r\n"))
        #expect(get.contains("\r\nDate: ") && get.hasSuffix("\r\n\r\n" + Self.body))
        #expect(head.contains("Content-Length: \(Self.body.utf8.count)\r\n") && head.hasSuffix("GMT\r\n\r\n"))
        // The Range request goes to the decoder alone; the request after it waits for its
        // answer, then is answered here.
        #expect(try Self.handedOn(channel) == range)
        #expect(try Self.written(channel).isEmpty)
        activity.routerAnswered?()
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(try Self.handedOn(channel).isEmpty)
        // A request this path cannot frame alone hands the connection on for good.
        let post = "POST /vod/pkg/a.m3u8 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
        try channel.writeInbound(ByteBuffer(string: post + after))
        #expect(try Self.handedOn(channel) == post + after)
        try channel.writeInbound(ByteBuffer(string: after))
        #expect(try Self.written(channel).isEmpty)
        #expect(try Self.handedOn(channel) == after)
    }

    /// `Connection: keep-alive` is answered here; `Connection: close` hands the connection on
    /// with what follows it; a client's half-close waits for the request the router answers.
    @Test func connectionHeadersAndHalfClose() async throws {
        let vod = try await Self.responder()
        let activity = ConnectionActivity()
        let channel = try Self.channel(vod, activity: activity)
        let recorder = EventRecorder<ByteBuffer>()
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.writeInbound(ByteBuffer(string: "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nConnection: Keep-Alive\r\n\r\n"))
        #expect(try Self.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        let range = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n"
        let plain = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: range + plain))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(recorder.events.isEmpty)
        #expect(try Self.handedOn(channel) == range)
        activity.routerAnswered?()
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(recorder.events == ["\(ChannelEvent.inputClosed)"])

        let closing = try Self.channel(vod)
        let close = "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nConnection: close\r\n\r\n"
        try closing.writeInbound(ByteBuffer(string: close + plain))
        #expect(try Self.written(closing).isEmpty)
        #expect(try Self.handedOn(closing) == close + plain)
    }

    @Test func aHeadSplitAcrossReadsIsAnswered() async throws {
        let channel = try Self.channel(try await Self.responder())
        try channel.writeInbound(ByteBuffer(string: "GET /vod/pkg/a.m3u8 HT"))
        #expect(try Self.written(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(string: "TP/1.1\r\nHost: kerf\r\n\r\n"))
        #expect(try Self.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(try Self.handedOn(channel).isEmpty)
    }

    /// Bytes no request line starts with go to the decoder (which refuses them with 400) at once,
    /// not after the header-read timeout; a head that may still be a request is kept.
    @Test func bytesThatCannotBeARequestAreHandedOnAtOnce() async throws {
        let vod = try await Self.responder()
        for garbage in ["\u{16}\u{3}\u{1}\u{2}\u{0}", "\u{0}\u{1}garbage", " GET / HTTP/1.1", "GET\t/", "G(ET /"] {
            let channel = try Self.channel(vod)
            try channel.writeInbound(ByteBuffer(string: garbage))
            #expect(try Self.written(channel).isEmpty)
            #expect(try Self.handedOn(channel) == garbage, "\(garbage.debugDescription) was kept")
        }
        for plausible in ["GE", "GET", "GET /vod/pkg/a.m3u8", "\r\nGET /"] {
            let channel = try Self.channel(vod)
            try channel.writeInbound(ByteBuffer(string: plausible))
            #expect(try Self.handedOn(channel).isEmpty, "\(plausible.debugDescription) was handed on")
        }
        #expect(RawRequestResponder.canStartRequest(ByteBuffer(string: "")))
    }

    @Test(arguments: [
        "GET /vod/pkg/a.m3u8 HTTP/1.0\r\n\r\n",
        "POST /vod/pkg/a.m3u8 HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nAccept-Encoding: br, gzip\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\nHost: kerf\r\n\r\n",
        "GET /vod/pkg/b.m3u8 HTTP/1.1\r\n\r\n",
        "GET /vod/pkg/../pkg/a.m3u8 HTTP/1.1\r\n\r\n",
        "GET /live/pkg/a.m3u8 HTTP/1.1\r\n\r\n",
        "GET /vod/pkg/a.m3u8  HTTP/1.1\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nBad Name: 1\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\nHost: kerf\n\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nX-A: 1\rContent-Length: 5\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nX-A: \u{0}\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
        "GET /vod/pkg/a.m3u8 HTTP/1.1\r\n" + String(repeating: "X-A: 1\r\n", count: 101) + "\r\n",
    ])
    func handsOnWhatItDoesNotAnswer(_ request: String) async throws {
        let channel = try Self.channel(try await Self.responder())
        try channel.writeInbound(ByteBuffer(string: request))
        #expect(try Self.written(channel).isEmpty)
        #expect(try Self.handedOn(channel) == request)
    }

    @Test func closesIdleConnectionsOnly() async throws {
        let vod = try await Self.responder()
        let idle = try Self.channel(vod)
        try idle.writeInbound(ByteBuffer(string: "GET /vod/pkg/a.m3u8 HTTP/1.1\r\n\r\n"))
        idle.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(idle.isActive)
        idle.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!idle.isActive)

        // A request the router is answering keeps the connection open past the timeout.
        let activity = ConnectionActivity()
        let busy = try Self.channel(vod, activity: activity)
        activity.inFlight = 1
        busy.embeddedEventLoop.advanceTime(by: .seconds(45))
        #expect(busy.isActive)
        activity.inFlight = 0
        activity.touch(busy.embeddedEventLoop.now)
        busy.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(!busy.isActive)
    }
}

/// The file cache on the real clock (it has no clock to inject).
@Suite(.tags(.unit)) struct FileCacheClockTests {
    /// Past its validity an entry sends one request to read the file again and keeps answering
    /// the others for the refresh grace (on a clock the test moves).
    @Test func expiredEntriesRefreshOnce() async throws {
        let vod = try await RawRequestResponderTests.responder()
        let served = try #require(vod.cache.lookup("pkg/a.m3u8"))
        let time = Mutex(ContinuousClock.now)
        let cache = FileCache(capacity: 1 << 20, validity: .milliseconds(50)) { time.withLock { $0 } }
        cache.store("pkg/a.m3u8", served)
        #expect(cache.lookup("pkg/a.m3u8") === served)
        time.withLock { $0 += .milliseconds(49) }
        #expect(cache.lookup("pkg/a.m3u8", stale: true) === served)
        time.withLock { $0 += .milliseconds(1) }
        #expect(cache.lookup("pkg/a.m3u8", stale: true) == nil)
        #expect(cache.lookup("pkg/a.m3u8", stale: true) === served)
        // The request refreshing it never gets the old copy.
        #expect(cache.lookup("pkg/a.m3u8") == nil)
        time.withLock { $0 += FileCache.refreshGrace }
        #expect(cache.lookup("pkg/a.m3u8", stale: true) == nil)
        cache.store("pkg/a.m3u8", served)
        #expect(cache.lookup("pkg/a.m3u8") === served)
    }
}

extension RawRequestResponderTests {
    /// A cached file with a sealed copy goes out as a `FileRegion` of the whole copy after its
    /// head, where the socket is below; through TLS (no `sendsFiles`), and for HEAD, the bytes
    /// are written from memory as before.
    @Test(arguments: [true, false]) func sealedCopiesGoOutAsFileRegions(sendsFiles: Bool) async throws {
        let root = try Fixtures.temporaryDirectory("kerf-raw-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(content).write(to: root.appendingPathComponent("big.m4s"))
        var configuration = OriginConfiguration()
        configuration.root = root.path
        let vod = VODResponder(root: root.path, configuration: configuration)
        #expect(vod.sealFrom == VODResponder.sendfileFrom)
        guard case .success(let file) = await OpenFile.open(raw: "big.m4s", root: vod.root, wholeUpTo: 1 << 20, sealFrom: vod.sealFrom) else {
            throw CommandError(message: "cannot open the test file")
        }
        let sealed = try #require(file.sealed)
        vod.cache.store("big.m4s", ServedFile(file: file, path: "big.m4s", configuration: configuration))
        let channel = try Self.channel(vod, sendsFiles: sendsFiles)
        try channel.writeInbound(ByteBuffer(string: "GET /vod/big.m4s HTTP/1.1\r\n\r\nHEAD /vod/big.m4s HTTP/1.1\r\n\r\n"))
        var head = try #require(try channel.readOutbound(as: IOData.self))
        guard case .byteBuffer(let getHead) = head else { throw CommandError(message: "no head first") }
        #expect(String(buffer: getHead).hasPrefix("HTTP/1.1 200 OK\r\n") && String(buffer: getHead).contains("Content-Length: 200000\r\n"))
        let body = try #require(try channel.readOutbound(as: IOData.self))
        switch body {
        case .fileRegion(let region):
            #expect(sendsFiles)
            #expect(region.readerIndex == 0 && region.endIndex == content.count)
            // The response's handle was given back unclosed once the write ended: the copy is
            // still open, with the file's bytes.
            #expect(!region.fileHandle.isOpen)
            var copy = [UInt8](repeating: 0, count: content.count)
            #expect(Glibc.pread(sealed.rawValue, &copy, copy.count, 0) == content.count && copy == content)
            // Corked for the head and body, uncorked once the body has gone.
            #expect(try channel.syncOptions?.getOption(RawRequestResponder.cork) == 0)
        case .byteBuffer(let buffer):
            #expect(!sendsFiles)
            #expect(Array(buffer.readableBytesView) == content)
        }
        head = try #require(try channel.readOutbound(as: IOData.self))
        guard case .byteBuffer(let headHead) = head else { throw CommandError(message: "HEAD answered with a file") }
        #expect(String(buffer: headHead).hasSuffix("GMT\r\n\r\n"))
        #expect(try channel.readOutbound(as: IOData.self) == nil)
    }
}
