import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfOrigin

/// Outages and restarts of live channels.
extension LiveTests {
    /// The feed stops for 10 s and comes back: the playlists carry a discontinuity, the MPD a
    /// second Period, and players that were watching (HLS and DASH) go on through the gap.
    @Test func feedOutageStartsANewEpoch() async throws {
        let port = try Live.port()
        let origin = try await Live.origin(input: Live.listening(port), window: 60)
        defer { Task { await origin.stop() } }
        var feed = try await Live.feed(to: port)
        defer { feed.stop() }
        // When each step happened (seconds after the feed started), for the failure messages.
        let clock = ContinuousClock(), start = clock.now
        var steps: [String] = []
        func step(_ name: String) { steps.append("\(name) \(String(format: "%.1f", (clock.now - start) / .seconds(1)))") }
        let started = try await Live.waitForPlaylist(origin, segments: 3)
        step("3 segments")
        async let watched = Live.play(origin.base + "/live/news/master.m3u8", seconds: 30)
        async let watchedDASH = Live.play(origin.base + "/live/news/manifest.mpd", seconds: 30)
        // The players watch at least one more segment before the outage.
        let listed = started.split(separator: "\n").filter { $0.hasPrefix("seg_") }.count
        try await Live.waitForPlaylist(origin, segments: listed + 1)
        step("\(listed + 1) segments")
        feed.stop()
        step("feed stopped")
        // Everything published before the outage (the segment in progress is completed at the
        // disconnection).
        let before = try await Live.waitForPlaylist(origin, segments: 3)
        let mediaBefore = Double(before.split(separator: "\n").filter { $0.hasPrefix("seg_") }.count + 1) * 2
        // The outage itself: 10 s without input (the gap the players must go through).
        try await Task.sleep(for: .seconds(10))
        feed = try await Live.feed(to: port)
        let playlist = try await Live.waitForPlaylist(origin, segments: 6, containing: "#EXT-X-DISCONTINUITY")
        #expect(playlist.components(separatedBy: "#EXT-X-MAP:URI=\"init_").count == 3)
        #expect(playlist.contains("#EXT-X-DISCONTINUITY-SEQUENCE") == false)
        let mpd = String(decoding: try await curl([origin.base + "/live/news/manifest.mpd"]).body, as: UTF8.self)
        #expect(mpd.components(separatedBy: "<Period id=\"").count == 3)

        // The player that was watching decoded 30 s of video: far more than existed before the
        // outage, so it went on through the discontinuity.
        let times = try await watched
        step("HLS player done")
        #expect(times.count >= 745, "\(times.count) frames")
        #expect(Double(times.count) / 25 > mediaBefore + 10, "\(times.count) frames, \(mediaBefore) s before the outage; \(steps)")
        // The DASH player's timeline has the outage in it (the second Period starts when the feed
        // came back) and it decoded the new Period's frames after the gap.
        let dash = try await watchedDASH
        let gaps = zip(dash, dash.dropFirst()).map { $1 - $0 }
        let outage = gaps.firstIndex { $0 > 8 }
        #expect(outage != nil, "no gap of 8 s or more in \(dash.count) DASH frames; \(steps)")
        if let outage {
            #expect(outage + 1 >= 50, "\(outage + 1) DASH frames before the outage")
            #expect(dash.count - outage - 1 >= 125, "\(dash.count - outage - 1) DASH frames after the outage")
        }
    }

    /// With `archive:`, the window is on disk: a restarted origin serves the same playlist and
    /// the same segment bytes at once (read back from the archive), then goes on with a
    /// discontinuity and increasing sequence numbers; files that leave the window are deleted.
    @Test func archivedWindowSurvivesARestart() async throws {
        let archive = try Fixtures.temporaryDirectory("kerf-live-archive").appendingPathComponent("news").path
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-root").path
        // 8 s listed: 3 segments even when a loop boundary makes one a little longer than 2 s.
        configuration.channels["news"] = .init(input: Fixtures.path("h264_aac_10s.mp4"), segmentDuration: 2, window: 8)
        configuration.channels["news"]?.archive = archive
        var origin = try await RunningOrigin(configuration)
        let before = try await Live.waitForPlaylist(origin, segments: 3, folder: "video_360p")
        let names = before.split(separator: "\n").filter { $0.hasPrefix("seg_") }.map(String.init)
        let segment = try await curl([origin.base + "/live/news/video_360p/" + names[0]])
        #expect(segment.status == 200)
        await origin.stop()
        let journal = try String(contentsOfFile: archive + "/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("\"segment\""))
        #expect(FileManager.default.fileExists(atPath: archive + "/video_360p/" + names[0]))
        // A journal line cut short (a crash while appending) ends the replay there, nothing more.
        try (journal + "{\"segment\":{\"fol").write(toFile: archive + "/journal.jsonl", atomically: true, encoding: .utf8)

        // The restarted origin's input never connects: what it serves comes from the archive.
        configuration.channels["news"]?.input = "udp://127.0.0.1:\(try Live.port())"
        origin = try await RunningOrigin(configuration)
        let restored = try await curl([origin.base + "/live/news/video_360p/playlist.m3u8"])
        #expect(restored.status == 200)
        let restoredNames = String(decoding: restored.body, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("seg_") }.map(String.init)
        #expect(restoredNames.starts(with: names.suffix(restoredNames.count)) || names.contains(restoredNames.first ?? ""),
                "\(restoredNames) after \(names)")
        let again = try await curl([origin.base + "/live/news/video_360p/" + names[0]])
        #expect(again.status == 200)
        #expect(again.body == segment.body)
        #expect(again.headers["etag"] == segment.headers["etag"])
        let mpd = try await curl([origin.base + "/live/news/manifest.mpd"])
        #expect(mpd.status == 200)
        await origin.stop()

        // Restarted on the file again: a new epoch after the restored ones, sequence numbers go on.
        configuration.channels["news"]?.input = Fixtures.path("h264_aac_10s.mp4")
        let resumedOrigin = try await RunningOrigin(configuration)
        origin = resumedOrigin
        defer { Task { await resumedOrigin.stop() } }
        let resumed = try await Live.waitForPlaylist(origin, segments: 3, containing: "#EXT-X-DISCONTINUITY\n", folder: "video_360p")
        func sequence(_ playlist: String) -> Int {
            Int(playlist.split(separator: "\n").first { $0.hasPrefix("#EXT-X-MEDIA-SEQUENCE:") }?.dropFirst(22) ?? "") ?? -1
        }
        #expect(sequence(resumed) >= sequence(before), "\(resumed)")
    }

    /// `kerf serve` killed with SIGKILL while it ingests, at a moment when a segment has just
    /// been listed, and restarted on the same archive serves every segment it listed before,
    /// byte for byte (segments reach the disk and the journal before a playlist lists them).
    @Test func aKilledOriginServesEverySegmentItListed() async throws {
        let directory = try Fixtures.temporaryDirectory("kerf-sigkill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try Live.port()
        let base = "http://127.0.0.1:\(port)/live/news/"
        func configuration(input: String) throws -> String {
            let yaml = """
                root: \(directory.appendingPathComponent("root").path)
                listen: 127.0.0.1:\(port)
                channels:
                  news:
                    input: \(input)
                    segment-duration: 2
                    window: 8
                    archive: \(directory.appendingPathComponent("archive").path)
                """
            let file = directory.appendingPathComponent("kerf.yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("root"), withIntermediateDirectories: true)
        let first = try BackgroundProcess(Fixtures.kerf, ["serve", "--config", try configuration(input: Fixtures.path("h264_aac_10s.mp4"))])
        defer { first.stop() }
        // Every segment listed so far, with its bytes, until a new one has just been listed
        // after the fifth: the kill then lands while the next segment is being made.
        var served: [String: Data] = [:]
        var lastListed: [String] = []
        try await waitUntil("five segments listed, then a new one", timeout: .seconds(60), poll: .milliseconds(50)) {
            guard let playlist = try? await curl([base + "video_360p/playlist.m3u8"]), playlist.status == 200 else { return false }
            let names = String(decoding: playlist.body, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("seg_") }.map(String.init)
            let new = names.filter { served[$0] == nil }
            for name in new {
                let segment = try await curl([base + "video_360p/" + name])
                #expect(segment.status == 200, "\(name) listed but answered \(segment.status)")
                served[name] = segment.body
            }
            defer { lastListed = names }
            return served.count >= 6 && !new.isEmpty && !lastListed.isEmpty
        }
        first.stop()

        // Restarted on an input that never connects: what it serves is the archive's.
        let second = try BackgroundProcess(Fixtures.kerf, ["serve", "--config", try configuration(input: "udp://127.0.0.1:\(try Live.port())")])
        defer { second.stop() }
        try await waitUntil("the restarted origin to answer", timeout: .seconds(30), poll: .milliseconds(100)) {
            (try? await curl([base + "video_360p/playlist.m3u8"]))?.status == 200
        }
        let listedBefore = Set(lastListed)
        for (name, bytes) in served.sorted(by: { $0.key < $1.key }) where listedBefore.contains(name) {
            let again = try await curl([base + "video_360p/" + name])
            #expect(again.status == 200 && again.body == bytes, "\(name): \(again.status), \(again.body.count) of \(bytes.count) bytes")
        }
        #expect(listedBefore.count >= 3)
    }

    /// The archive's disk fills while a channel runs (a tmpfs in a mount namespace of the
    /// test's own, filled from outside through /proc/<pid>/root): the channel goes on serving
    /// from memory, logs the failure once (not once per segment), and when space returns writes
    /// again and catches up (the segments it held in memory reach the disk).
    @Test func aFullArchiveDiskKeepsTheChannelServing() async throws {
        let directory = try Fixtures.temporaryDirectory("kerf-archive-full")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mount = directory.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let port = try Live.port()
        let yaml = """
            root: \(directory.path)
            listen: 127.0.0.1:\(port)
            channels:
              news:
                input: \(Fixtures.path("h264_aac_10s.mp4"))
                segment-duration: 2
                window: 8
                archive: \(mount)/news
            """
        try yaml.write(toFile: directory.appendingPathComponent("kerf.yaml").path, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("serve.log").path
        let server = try BackgroundProcess("unshare", ["-rm", "sh", "-c", "mount -t tmpfs -o size=4m tmpfs \"$1\" && exec \"$2\" serve --config \"$3\" 2> \"$4\"",
                                                       "sh", mount, Fixtures.kerf, directory.appendingPathComponent("kerf.yaml").path, log])
        defer { server.stop() }
        let inside = "/proc/\(server.process.processIdentifier)/root\(mount)"
        let playlist = "http://127.0.0.1:\(port)/live/news/video_360p/playlist.m3u8"
        func listed() async throws -> [String] {
            guard let response = try? await curl([playlist]), response.status == 200 else { return [] }
            return String(decoding: response.body, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("seg_") }.map(String.init)
        }
        try await waitUntil("segments archived", timeout: .seconds(60), poll: .milliseconds(200)) {
            try await listed().count >= 2 && FileManager.default.fileExists(atPath: inside + "/news/journal.jsonl")
        }
        // Fill the disk: one file takes what is left.
        let filler = inside + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: filler))
        let block = Data(repeating: 0, count: 65_536)
        do { while true { try handle.write(contentsOf: block) } } catch {}
        try handle.close()
        // Names by time: compared as numbers (seg_102400 comes after seg_51200).
        func time(_ name: String) -> Int { Int(name.dropFirst(4).prefix { $0.isNumber }) ?? -1 }
        let full = time(try await listed().last ?? "")
        // Still serving: new segments are listed and answered while nothing can be written.
        var whileFull: [String] = []
        try await waitUntil("four segments listed on the full disk", timeout: .seconds(60), poll: .milliseconds(200)) {
            whileFull = try await listed().filter { time($0) > full }
            return whileFull.count >= 4
        }
        for name in whileFull {
            let segment = try await curl(["http://127.0.0.1:\(port)/live/news/video_360p/" + name])
            #expect(segment.status == 200 && !segment.body.isEmpty, "\(name) while the disk is full: \(segment.status)")
        }
        let failures = try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "archive: cannot store").count - 1
        #expect(failures == 1, "\(failures) log lines about the full disk while \(whileFull.count) segments came")
        // Space returns: archiving resumes and catches up with what was held in memory.
        try FileManager.default.removeItem(atPath: filler)
        try await waitUntil("archiving to resume", timeout: .seconds(60), poll: .milliseconds(200)) {
            (try? String(contentsOfFile: log, encoding: .utf8))?.contains("archive: writing again") == true
        }
        let current = try await listed()
        #expect(current.contains { whileFull.contains($0) }, "none of the segments listed on the full disk is still listed")
        for name in current where whileFull.contains(name) {
            #expect(FileManager.default.fileExists(atPath: inside + "/news/video_360p/" + name), "\(name) was not written after the disk had room")
        }
    }
}
