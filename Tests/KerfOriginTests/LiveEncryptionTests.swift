import Foundation
import KerfCore
import KerfPackager
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// A live channel with `encryption:`: what curl fetches from the origin is signalled in the
/// playlists and the MPD (which passes the DASH schema), and ffmpeg decrypts the fetched init
/// and media segments with the key, not with another.
@Suite(.tags(.realtime)) struct LiveEncryptionOriginTests {
    static let keyID = "00112233445566778899aabbccddeeff", key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

    @Test func encryptedChannelIsSignalledAndDecrypts() async throws {
        let port = try Live.port()
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        var channel = OriginConfiguration.Channel(input: Live.listening(port), segmentDuration: 2, window: 30)
        var encryption = CommonEncryption(scheme: .cbcs)
        try encryption.addKey("\(Self.keyID):\(Self.key)", option: "test")
        encryption.drmSystems = [.common, .widevine, .fairplay]
        channel.encryption = encryption
        configuration.channels["news"] = channel
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        // 2 s GOPs: one fragment per segment, as FFmpeg 5.1 decrypts one moof per file.
        let feed = try await Live.feed(to: port, ["-g", "50", "-keyint_min", "50"])
        defer { feed.stop() }
        let playlist = try await Live.waitForPlaylist(origin, segments: 3)
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,"))
        #expect(playlist.contains("KEYFORMAT=\"com.apple.streamingkeydelivery\"") && !playlist.contains("identity"))
        let master = String(decoding: try await curl([origin.base + "/live/news/master.m3u8"]).body, as: UTF8.self)
        #expect(master.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES"))
        let mpd = try await curl([origin.base + "/live/news/manifest.mpd"]).body
        let text = String(decoding: mpd, as: UTF8.self)
        #expect(text.contains("value=\"cbcs\" cenc:default_KID=\"00112233-4455-6677-8899-aabbccddeeff\""))
        #expect(text.contains("urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed") && !text.contains("94ce86fb"))
        let schema = try await Live.schemaCheck(mpd)
        #expect(schema.status == 0, "\(schema.stderr)")
        // The newest listed segment with its init segment, decrypted by ffmpeg.
        let lines = playlist.split(separator: "\n")
        let map = try #require(lines.last { $0.hasPrefix("#EXT-X-MAP:") }?.firstMatch(of: /URI="([^"]+)"/).map { String($0.1) })
        let segment = try #require(lines.last { $0.hasPrefix("seg_") }.map(String.init))
        let folder = origin.base + "/live/news/video_180p/"
        let bytes = try await curl([folder + map]).body + (try await curl([folder + segment]).body)
        let file = try Fixtures.temporaryDirectory("kerf-live-cenc").appendingPathComponent("one.mp4")
        try bytes.write(to: file)
        let right = try await Command.runDetached("ffmpeg", ["-v", "error", "-decryption_key", Self.key, "-i", file.path, "-f", "framemd5", "-"])
        #expect(right.status == 0 && right.stderr.isEmpty, "\(right.stderr)")
        let frames = right.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(frames.count >= 40, "\(frames.count) frames in a 2 s segment")
        let wrong = try await Command.runDetached("ffmpeg", ["-v", "error", "-decryption_key", "ffeeddccbbaa99887766554433221100", "-i", file.path,
                                                             "-f", "framemd5", "-"])
        #expect(wrong.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") } != frames)
    }

    /// Key rotation, one key per segment: the playlist names a new KEYID per segment, the MPD
    /// an all-zero default KID, and a fetched segment decrypts with the key of its period,
    /// derived here with OpenSSL's HMAC as README documents it.
    @Test func rotatedChannelNamesEachPeriodsKey() async throws {
        let (origin, feed) = try await Self.rotatingChannel("scheme: cenc, rotation: 1, root-key: \(Self.key), drm: [common, widevine]")
        defer { Task { await origin.stop() }; feed.stop() }
        let playlist = try await Live.waitForPlaylist(origin, segments: 3)
        let keyIDs = playlist.split(separator: "\n").compactMap { $0.firstMatch(of: /KEYID=0x([0-9a-f]{32})/).map { String($0.1) } }
        #expect(Set(keyIDs).count >= 3, "\(playlist)")
        let mpd = try await curl([origin.base + "/live/news/manifest.mpd"]).body
        #expect(String(decoding: mpd, as: UTF8.self).contains("cenc:default_KID=\"00000000-0000-0000-0000-000000000000\""))
        #expect(try await Live.schemaCheck(mpd).status == 0)
        // The newest segment: its period is its start (seconds, from the name) over 2 s.
        let lines = playlist.split(separator: "\n")
        let map = try #require(lines.last { $0.hasPrefix("#EXT-X-MAP:") }?.firstMatch(of: /URI="([^"]+)"/).map { String($0.1) })
        let segment = try #require(lines.last { $0.hasPrefix("seg_") }.map(String.init))
        let ticks = try #require(Int64(segment.dropFirst(4).prefix { $0.isNumber }))
        let timescale = try #require(Int64(String(decoding: try await curl([origin.base + "/live/news/manifest.mpd"]).body, as: UTF8.self)
            .firstMatch(of: /timescale="([0-9]+)"/).map { String($0.1) } ?? ""))
        let period = ticks / timescale / 2
        let periodKey = try await Self.hmac("kerf key \(period)"), periodKID = try await Self.hmac("kerf kid \(period)")
        #expect(keyIDs.last == periodKID, "the last key named is the newest segment's period's")
        let folder = origin.base + "/live/news/video_180p/"
        let bytes = try await curl([folder + map]).body + (try await curl([folder + segment]).body)
        let file = try Fixtures.temporaryDirectory("kerf-live-rotation").appendingPathComponent("one.mp4")
        try bytes.write(to: file)
        let right = try await Command.runDetached("ffmpeg", ["-v", "error", "-decryption_key", periodKey, "-i", file.path, "-f", "framemd5", "-"])
        #expect(right.status == 0 && right.stderr.isEmpty, "\(right.stderr)")
        let wrong = try await Command.runDetached("ffmpeg", ["-v", "error", "-decryption_key", try await Self.hmac("kerf key \(period + 1)"),
                                                             "-i", file.path, "-f", "framemd5", "-"])
        #expect(wrong.stdout != right.stdout)
    }

    /// Key rotation every 5 segments (10 s): `kerf validate --live 30 --deep` with the keys of
    /// the periods around now (derived here with OpenSSL) finds no error in the HLS playlists
    /// or the MPD, and decrypts what it reads.
    @Test func rotatedChannelValidatesLiveWithItsKeys() async throws {
        let (origin, feed) = try await Self.rotatingChannel("scheme: cbcs, rotation: 5, root-key: \(Self.key), drm: [common, widevine]")
        defer { Task { await origin.stop() }; feed.stop() }
        try await Live.waitForPlaylist(origin, segments: 3)
        // The period of a segment starting at channel time t is t / 10; channel time 0 is the
        // MPD's availabilityStartTime.
        let mpd = String(decoding: try await curl([origin.base + "/live/news/manifest.mpd"]).body, as: UTF8.self)
        let start = try #require(mpd.firstMatch(of: /availabilityStartTime="([^"]+)"/).flatMap { UTCTime.parseXSDateTime(String($0.1)) })
        let now = Int64(Date().timeIntervalSince1970 - start) / 10
        var keys: [String] = []
        for period in (now - 4)...(now + 5) {
            keys += ["--key", "\(try await Self.hmac("kerf kid \(period)")):\(try await Self.hmac("kerf key \(period)"))"]
        }
        async let hls = Command.runDetached(Fixtures.kerf, ["validate", "--live", "30", "--deep"] + keys + [origin.base + "/live/news/master.m3u8"])
        async let dash = Command.runDetached(Fixtures.kerf, ["validate", "--live", "30", "--deep"] + keys + [origin.base + "/live/news/manifest.mpd"])
        for (name, result) in [("HLS", try await hls), ("DASH", try await dash)] {
            #expect(result.status == 0, "\(name): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("0 errors"), "\(name): \(result.stdout)")
            #expect(!result.stdout.contains("segment-encrypted") && !result.stdout.contains("decryption-failed"), "\(name): \(result.stdout)")
            #expect(!result.stdout.contains(Self.key))
        }
    }

    /// An origin with one channel `news` whose `encryption:` is the YAML flow mapping `settings`,
    /// fed the test pattern with 2 s GOPs (one fragment per segment: FFmpeg 5.1 decrypts one
    /// moof per file).
    static func rotatingChannel(_ settings: String) async throws -> (RunningOrigin, FeedRelay) {
        let port = try Live.port()
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        configuration.channels["news"] = try OriginConfiguration.load(yaml: """
            channels:
              news:
                input: \(Live.listening(port))
                segment-duration: 2
                window: 30
                encryption: {\(settings)}
            """, file: "test.yaml").channels["news"]
        let origin = try await RunningOrigin(configuration)
        do { return (origin, try await Live.feed(to: port, ["-g", "50", "-keyint_min", "50"])) } catch {
            await origin.stop()
            throw error
        }
    }

    /// HMAC-SHA256 of `message` with the root key, by OpenSSL (the derivation README documents),
    /// as 32 hex digits.
    static func hmac(_ message: String) async throws -> String {
        let result = try await Command.runDetached("sh", ["-c", "printf '%s' '\(message)' | openssl dgst -sha256 -mac HMAC -macopt hexkey:\(key)"])
        return String(try #require(result.stdout.split(separator: " ").last).prefix(32))
    }
}
