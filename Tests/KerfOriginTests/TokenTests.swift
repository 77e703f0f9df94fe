import Foundation
import KerfCore
import KerfTestSupport
import Logging
import Testing
import KerfTestTags
@testable import KerfOrigin
@testable import KerfLive
@testable import KerfRTMP

/// Signed playback URLs and the admin token.
@Suite(.tags(.unit)) struct TokenTests {
    let signer = SignedURL(secret: "correct-horse-battery-staple")

    @Test func signedPathsVerifyOnlyInTheirScopeAndTime() throws {
        let now = 1_800_000_000.0
        let signed = try #require(signer.sign(path: "/vod/demo/master.m3u8", expires: 1_800_000_060))
        #expect(signed.hasPrefix("/token/1800000060/"))
        #expect(signer.verify(Substring(signed), now: now) == .allowed(path: "/vod/demo/master.m3u8"))
        // Any file of the same package: relative URLs inside the playlist inherit the token.
        let child = signed.replacing("master.m3u8", with: "video_360p/seg_1.m4s")
        #expect(signer.verify(Substring(child), now: now) == .allowed(path: "/vod/demo/video_360p/seg_1.m4s"))
        #expect(signer.verify(Substring(signed), now: 1_800_000_061) == .expired)
        // Another package, a changed expiry, a flipped signature digit, another secret: refused.
        #expect(signer.verify(Substring(signed.replacing("/vod/demo/", with: "/vod/other/")), now: now) == .invalid)
        #expect(signer.verify(Substring(signed.replacing("1800000060", with: "1900000060")), now: now) == .invalid)
        var digits = Array(signed)
        let index = "/token/1800000060/".count
        digits[index] = digits[index] == "0" ? "1" : "0"
        #expect(signer.verify(Substring(String(digits)), now: now) == .invalid)
        #expect(SignedURL(secret: "another-secret-of-16").verify(Substring(signed), now: now) == .invalid)
        for hostile in ["/token/", "/token/1/2/vod/demo/x", "/token/99999999999999999999/" + String(repeating: "0", count: 32) + "/vod/demo/x",
                        "/token/1800000060/" + String(repeating: "0", count: 32) + "/etc/passwd", "/token//////"] {
            #expect(signer.verify(Substring(hostile), now: now) == .invalid, "\(hostile)")
        }
        #expect(signer.sign(path: "/healthz", expires: 1) == nil)
    }
}

/// Signed URLs and the admin token required by a running origin, with curl and ffmpeg as clients.
@Suite(.tags(.integration)) struct TokenOriginTests {
    let signer = SignedURL(secret: "correct-horse-battery-staple")

    @Test func originRequiresTokensWhenConfigured() async throws {
        let root = try OriginRoot.make()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        var configuration = OriginConfiguration()
        configuration.root = root.path
        configuration.tokenSecret = "correct-horse-battery-staple"
        configuration.adminToken = "admin-token-of-some-length"
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let expires = Int64(UTCTime.now()) + 600

        #expect(try await curl([origin.base + "/vod/demo/master.m3u8"]).status == 403)
        let signed = try #require(signer.sign(path: "/vod/demo/master.m3u8", expires: expires))
        let master = try await curl([origin.base + signed])
        #expect(master.status == 200)
        #expect(master.body == (try Data(contentsOf: root.appendingPathComponent("demo/master.m3u8"))))
        // ffmpeg resolves the playlist's relative URLs under the token and plays it all.
        let played = try await Command.runDetached("ffmpeg", ["-v", "error", "-i", origin.base + signed, "-f", "null", "-"])
        #expect(played.status == 0, "\(played.stderr)")
        let expired = try #require(signer.sign(path: "/vod/demo/master.m3u8", expires: Int64(UTCTime.now()) - 1))
        #expect(try await curl([origin.base + expired]).status == 403)
        #expect(try await curl([origin.base + signed.replacing("/vod/demo/", with: "/vod/up/")]).status == 403)
        #expect(try await curl([origin.base + "/healthz"]).status == 200)
        // A file over the cache's largest entry goes with `sendfile` here too (no fast path).
        let large = Data((0..<(origin.server.vod.cache.largestEntry + 77)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try large.write(to: root.appendingPathComponent("demo/large.m4s"))
        let signedLarge = try #require(signer.sign(path: "/vod/demo/large.m4s", expires: expires))
        let sent = try await curl(["-H", "Range: bytes=10-", origin.base + signedLarge])
        #expect(sent.status == 206 && sent.body == large.dropFirst(10))

        // The status page and metrics: only with the admin token.
        let denied = try await curl([origin.base + "/metrics"])
        #expect(denied.status == 401)
        #expect(denied.headers["www-authenticate"] == "Bearer realm=\"kerf\"")
        #expect(try await curl(["-H", "Authorization: Bearer wrong-token-of-some-length", origin.base + "/"]).status == 401)
        #expect(try await curl(["-H", "Authorization: Bearer admin-token-of-some-length", origin.base + "/metrics"]).status == 200)
        #expect(try await curl(["-H", "Authorization: Bearer admin-token-of-some-length", origin.base + "/"]).status == 200)
    }
}
