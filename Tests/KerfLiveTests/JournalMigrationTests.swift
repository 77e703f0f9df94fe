import Foundation
import KerfCore
import KerfTestSupport
import KerfTestTags
import Logging
import Testing
@testable import KerfLive

/// An archive journal written before times were `MediaTime` (segment ticks beside a timescale,
/// epoch `startMilliseconds`; `Tests/Fixtures/live-journal-v1`, with the media playlist that
/// window served) still replays: the restored window serves the same playlist, and the
/// compaction at start rewrites the journal in the current form, which replays alike.
@Suite(.tags(.unit)) struct JournalMigrationTests {
    static let fixture = Fixtures.root.appendingPathComponent("Tests/Fixtures/live-journal-v1")

    /// A copy of the fixture archive to restore from (a channel rewrites its journal).
    static func archiveCopy() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("kerf-journal")
        let archive = dir.appendingPathComponent("archive")
        try FileManager.default.copyItem(at: fixture, to: archive)
        return archive
    }

    static func channel(archive: URL) throws -> LiveChannel {
        var configuration = ChannelConfiguration(input: "udp://127.0.0.1:1", segmentDuration: 2, window: 6)
        configuration.archive = archive.path
        return try LiveChannel(name: "news", configuration: configuration, metrics: .unregistered(name: "news"),
                               logger: Logger(label: "test"), clock: ManualClock(1_000_020))
    }

    @Test func everyLineOfTheFirstFormatIsRead() throws {
        let archive = try LiveArchive(directory: Self.fixture.path, logger: Logger(label: "test"))
        let records = archive.records()
        #expect(records.count == 24)
        let segments = records.compactMap { record -> MediaTime? in
            if case .segment(_, _, _, let start, _, _, _, _, _) = record { return start } else { return nil }
        }
        #expect(segments.count == 16)
        #expect(segments.first == MediaTime(value: 48_000_192_000, timescale: 48_000))
        let epochs = records.compactMap { record -> MediaTime? in
            if case .epoch(_, let start, _, _) = record { return start } else { return nil }
        }
        #expect(epochs == [MediaTime(value: 1_000_000_000, timescale: 1000), MediaTime(value: 1_000_010_000, timescale: 1000)])
    }

    @Test func aWindowRestoredFromTheFirstFormatServesWhatItServed() throws {
        let archive = try Self.archiveCopy()
        defer { try? FileManager.default.removeItem(at: archive.deletingLastPathComponent()) }
        // What the first format's window served, and the segment before it: HLS playlists now
        // list the window and half a target duration more (`Presentation.hlsListed`).
        let map = "#EXT-X-MAP:URI=\"init_1000010000.mp4\"\n"
        let served = try String(contentsOf: Self.fixture.appendingPathComponent("video.m3u8"), encoding: .utf8)
            .replacingOccurrences(of: "#EXT-X-MEDIA-SEQUENCE:500007\n", with: "#EXT-X-MEDIA-SEQUENCE:500006\n")
            .replacingOccurrences(of: map, with: map + "#EXT-X-PROGRAM-DATE-TIME:1970-01-12T13:46:52.000Z\n#EXTINF:2.000,\nseg_90001080000.m4s\n")
        let channel = try Self.channel(archive: archive)
        let restored = channel.window.withLock { $0.documents["video_180p/playlist.m3u8"] }.map { String(buffer: $0.body) }
        #expect(restored == served)

        // The journal was compacted into the current form: MediaTime objects, no ticks or
        // milliseconds fields; restoring from it serves the same playlist again.
        let journal = try String(contentsOf: archive.appendingPathComponent("journal.jsonl"), encoding: .utf8)
        #expect(journal.contains("\"start\":{\"timescale\":90000,\"value\":"))
        #expect(!journal.contains("startMilliseconds"))
        // The origin of the timeline comes first: the epoch of that journal, Unix time.
        #expect(journal.split(separator: "\n").count == 25)
        #expect(journal.hasPrefix("{\"origin\":0}\n"))
        let again = try Self.channel(archive: archive)
        #expect(again.window.withLock { $0.documents["video_180p/playlist.m3u8"] }.map { String(buffer: $0.body) } == served)
        #expect(again.window.withLock { $0.presentation.tracks["video_180p"]?.nextSequence } == 500_010)
    }
}
