import AsyncHTTPClient
import Foundation
import KerfTestSupport
import KerfTestTags
import KerfValidate
import NIOCore
import Testing
@testable import KerfOrigin
@testable import KerfLive

extension LiveTests {
    /// LL-HLS: parts listed with a preload hint and rendition reports; a request held for a
    /// future part is answered as soon as it exists and lists it; the hinted part itself is
    /// served when it exists; `_HLS_skip=YES` expands to the full playlist. LL-DASH: the segment
    /// in progress is sent in chunks, the MPD says so and validates. ffmpeg plays it and the
    /// validator finds no errors in either.
    @Test func lowLatencyPlaylistsBlockAndSkip() async throws {
        let port = try Live.port()
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        configuration.channels["news"] = .init(input: Live.listening(port), segmentDuration: 1, window: 20)
        configuration.channels["news"]?.partDuration = 0.25
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let feed = try await Live.feed(to: port)
        defer { feed.stop() }
        let playlistURL = origin.base + "/live/news/video_180p/playlist.m3u8"
        let first = try await Live.waitForPlaylist(origin, segments: 3)
        #expect(first.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.000,PART-HOLD-BACK=0.750"))
        #expect(first.contains("#EXT-X-PART-INF:PART-TARGET=0.250"))
        #expect(first.contains("#EXT-X-RENDITION-REPORT:URI=\"../audio_und_aac/playlist.m3u8\",LAST-MSN="))
        #expect(first.contains(",INDEPENDENT=YES"))
        // Listed parts resolve against the playlist's URL, as players resolve them.
        let partURIs = first.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-PART:") }
            .compactMap { $0.firstMatch(of: /URI="([^"]+)"/).map { String($0.1) } }
        #expect(!partURIs.isEmpty)
        for uri in partURIs.suffix(3) {
            let resolved = try #require(URL(string: uri, relativeTo: URL(string: playlistURL))).absoluteString
            let part = try await curl([resolved])
            #expect(part.status == 200, "\(uri) resolves to \(resolved): \(part.status)")
        }

        // Hold a request for the part after the next one: answered once it exists, listing it.
        func state(_ playlist: String) -> (msn: UInt64, parts: Int, hint: String)? {
            let lines = playlist.split(separator: "\n")
            guard let sequence = lines.first(where: { $0.hasPrefix("#EXT-X-MEDIA-SEQUENCE:") }).flatMap({ UInt64($0.dropFirst(22)) }),
                  let hint = lines.last(where: { $0.hasPrefix("#EXT-X-PRELOAD-HINT") }),
                  let lastURI = lines.lastIndex(where: { $0.hasPrefix("seg_") }) else { return nil }
            let segments = lines.filter { $0.hasPrefix("seg_") }.count
            let trailing = lines[lastURI...].filter { $0.hasPrefix("#EXT-X-PART:") }.count
            let uri = hint.split(separator: "\"")[1]
            return (sequence + UInt64(segments), trailing, String(uri))
        }
        let now = try #require(state(String(decoding: try await curl([playlistURL]).body, as: UTF8.self)))
        func satisfied(_ text: String) -> Bool {
            guard let later = state(text) else { return false }
            return later.msn > now.msn || later.parts >= now.parts + 2
        }
        // An observer in this process notes when the part is first listed in the channel's
        // window (every 5 ms, no process per look); the held request is made from this process
        // too, so neither side pays for starting curl on a loaded machine.
        let channel = try #require(origin.server.channels["news"])
        async let firstSeen: Date? = {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let listed = channel.window.withLock { $0.documents["video_180p/playlist.m3u8"]?.body }
                if let listed, satisfied(String(buffer: listed)) { return Date() }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return nil
        }()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let held: (status: Int, body: String)
        do {
            let response = try await client.execute(HTTPClientRequest(url: playlistURL + "?_HLS_msn=\(now.msn)&_HLS_part=\(now.parts + 1)"),
                                                    timeout: .seconds(30))
            held = (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        } catch {
            try await client.shutdown()
            throw error
        }
        let answered = Date()
        try await client.shutdown()
        #expect(held.status == 200)
        let heldText = held.body
        let after = try #require(state(heldText))
        #expect(satisfied(heldText), "\(heldText)")
        // Answered promptly once the part exists. A loaded machine may delay either side by a
        // few hundred ms; a request answered only when its hold ends (3 s) or not at all fails.
        let seen = try #require(await firstSeen)
        #expect(answered.timeIntervalSince(seen) < 1, "answered \(answered.timeIntervalSince(seen)) s after the part was listed")

        // The hinted part: the request waits for it, then gets its bytes (immutable). A hint at
        // a segment's end may name a part that never comes (the segment ends first): that is a
        // 404 as soon as the segment ends, and the next hint is tried.
        var hint = after.hint
        var servedHint = false
        for _ in 0..<4 where !servedHint {
            let hintStarted = Date()
            let hinted = try await curl([origin.base + "/live/news/video_180p/" + hint])
            #expect(Date().timeIntervalSince(hintStarted) < 3, "not answered before the hold's end")
            if hinted.status == 200 {
                #expect(hinted.body.count > 100)
                #expect(hinted.headers["cache-control"] == "public, max-age=31536000, immutable")
                servedHint = true
            } else {
                #expect(hinted.status == 404)
                hint = try #require(state(String(decoding: try await curl([playlistURL]).body, as: UTF8.self))).hint
            }
        }
        #expect(servedHint)

        // LL-DASH: the segment being written comes with chunked transfer encoding as its parts
        // are made, and is byte for byte the completed segment.
        // (The segment may complete between reading the hint and asking for it on a busy
        // machine: then it is asked for again at the next one.)
        var checkedChunked = false
        for _ in 0..<5 where !checkedChunked {
            let current = try #require(state(String(decoding: try await curl([playlistURL]).body, as: UTF8.self)))
            let inProgress = current.hint.split(separator: "_")[1]
            let segmentURL = origin.base + "/live/news/video_180p/seg_\(inProgress).m4s"
            let chunked = try await curl([segmentURL])
            guard chunked.headers["transfer-encoding"] == "chunked" else { continue }
            #expect(chunked.status == 200)
            let completed = try await curl([segmentURL])
            #expect(completed.headers["content-length"] == String(completed.body.count))
            #expect(chunked.body == completed.body && completed.body.count > 1000)
            checkedChunked = true
        }
        #expect(checkedChunked, "the segment in progress was never sent in chunks")
        let mpd = try await curl([origin.base + "/live/news/manifest.mpd"])
        let mpdText = String(decoding: mpd.body, as: UTF8.self)
        #expect(mpdText.contains("availabilityTimeOffset=\"0.75\""))
        #expect(mpdText.contains("availabilityTimeComplete=\"false\""))
        #expect(mpdText.contains("<Latency target=\"1500\""))
        #expect(mpdText.contains("<ProducerReferenceTime id=\"0\" type=\"encoder\" wallClockTime=\""))
        let lint = try await Live.schemaCheck(mpd.body)
        #expect(lint.status == 0, "\(lint.stderr)")

        // Refused parameters.
        #expect(try await curl([playlistURL + "?_HLS_msn=\(now.msn + 10)"]).status == 400)
        #expect(try await curl([playlistURL + "?_HLS_part=1"]).status == 400)

        // Delta update: once more than CAN-SKIP-UNTIL (6 s) is listed, older segments are skipped;
        // the skipped count plus what is listed is the full playlist.
        try await Live.waitForPlaylist(origin, segments: 9)
        var compared = false
        for _ in 0..<8 where !compared {
            let full = String(decoding: try await curl([playlistURL]).body, as: UTF8.self)
            let delta = String(decoding: try await curl([playlistURL + "?_HLS_skip=YES"]).body, as: UTF8.self)
            let again = String(decoding: try await curl([playlistURL]).body, as: UTF8.self)
            guard again == full else { continue }
            let fullURIs = full.split(separator: "\n").filter { $0.hasPrefix("seg_") }
            let deltaURIs = delta.split(separator: "\n").filter { $0.hasPrefix("seg_") }
            let skipped = delta.split(separator: "\n").first { $0.hasPrefix("#EXT-X-SKIP:SKIPPED-SEGMENTS=") }
                .flatMap { Int($0.dropFirst("#EXT-X-SKIP:SKIPPED-SEGMENTS=".count)) }
            #expect(delta.contains("#EXT-X-VERSION:9"))
            #expect((skipped ?? 0) > 0, "\(delta)")
            #expect(Array(fullURIs.dropFirst(skipped ?? 0)) == deltaURIs)
            #expect(delta.contains("#EXT-X-MAP:URI=\"init_"))
            compared = true
        }
        #expect(compared, "the playlist changed between every pair of requests")

        // ffmpeg (which ignores the low-latency tags) plays it; the validator finds no errors.
        async let frames = Live.play(origin.base + "/live/news/master.m3u8", seconds: 5)
        var validator = Validator(schemaPath: Fixtures.dashSchema)
        validator.live = 8
        async let dashReport = validator.validate(origin.base + "/live/news/manifest.mpd")
        let report = try await validator.validate(origin.base + "/live/news/master.m3u8")
        #expect(report.errors == 0, "\(report.findings.filter { $0.severity == .error }.map(\.message))")
        let mpdReport = try await dashReport
        #expect(mpdReport.errors == 0, "\(mpdReport.findings.filter { $0.severity == .error }.map(\.message))")
        let decoded = try await frames
        #expect(decoded.count >= 123 && decoded.count <= 127, "\(decoded.count) frames")
    }
}
