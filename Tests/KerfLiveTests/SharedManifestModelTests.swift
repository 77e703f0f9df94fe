import Foundation
import KerfCore
import KerfManifest
import KerfPackager
import KerfTestSupport
import KerfTestTags
import NIOCore
import Testing
@testable import KerfLive

/// Packages and live channels list what they publish through one model: the same recorded
/// segment events, fed to a package's manifests and to a live window, render the same
/// multivariant playlist, the same media playlists but for the tags only one of them has
/// (live: EXT-X-MEDIA-SEQUENCE, EXT-X-PROGRAM-DATE-TIME; VOD: EXT-X-PLAYLIST-TYPE,
/// EXT-X-ENDLIST) and MPDs that differ only in the attributes of a static or dynamic MPD.
@Suite(.tags(.unit)) struct SharedManifestModelTests {
    /// A recorded presentation: 720p and 360p H.264, English and French AAC, 5 segments of 2 s
    /// each, one epoch from time 0, segments named by time (as live channels name them).
    static func recording() -> [SegmentEvent] {
        func video(_ height: Int, _ index: Int) -> TrackInfo {
            var info = TrackInfo(index: index, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000))
            info.width = height * 16 / 9
            info.height = height
            info.codecString = "avc1.64001f"
            info.frameRate = Rational(25, 1)
            info.sampleAspectRatio = Rational(1, 1)
            return info
        }
        func audio(_ language: String, _ index: Int) -> TrackInfo {
            var info = TrackInfo(index: index, mediaType: .audio, codec: "aac", timeBase: Rational(1, 48_000))
            info.codecString = "mp4a.40.2"
            info.sampleRate = 48_000
            info.channels = 2
            info.language = language
            return info
        }
        let renditions: [(RenditionDescription, sizes: [Int])] = [
            (RenditionDescription(id: "video_720p", kind: .video, info: video(720, 0), name: "video", language: nil, isDefault: true,
                                  timescale: 90_000, mediaTemplate: "video_720p/seg_$Time$.m4s", templateByTime: true),
             [612_000, 598_000, 640_100, 587_300, 603_000]),
            (RenditionDescription(id: "video_360p", kind: .video, info: video(360, 1), name: "video", language: nil,
                                  timescale: 90_000, mediaTemplate: "video_360p/seg_$Time$.m4s", templateByTime: true),
             [182_000, 176_500, 190_200, 171_000, 179_900]),
            (RenditionDescription(id: "audio_eng_aac", kind: .audio, info: audio("eng", 2), name: "English", language: "eng",
                                  isDefault: true, timescale: 48_000, mediaTemplate: "audio_eng_aac/seg_$Time$.m4s", templateByTime: true),
             [32_100, 32_050, 32_200, 31_980, 32_010]),
            (RenditionDescription(id: "audio_fra_aac", kind: .audio, info: audio("fra", 3), name: "Français", language: "fra",
                                  timescale: 48_000, mediaTemplate: "audio_fra_aac/seg_$Time$.m4s", templateByTime: true),
             [32_300, 31_900, 32_000, 32_400, 31_700]),
        ]
        var events = renditions.map { SegmentEvent.started($0.0) }
        events.append(.epochStarted(id: 0, start: .zero(timescale: 1000), renditions: renditions.map(\.0.id)))
        for (rendition, _) in renditions {
            events.append(.initialization(rendition: rendition.id, epoch: 0, InitializationEntry(uri: "\(rendition.id)/init_0.mp4")))
        }
        for index in 0..<5 {
            for (rendition, sizes) in renditions {
                let scale = rendition.timescale
                let start = MediaTime(value: Int64(index) * 2 * scale, timescale: scale)
                events.append(.segmentCompleted(rendition: rendition.id, SegmentEntry(
                    uri: "\(rendition.id)/seg_\(start.value).m4s", sequence: UInt64(index), start: start,
                    duration: MediaTime(value: 2 * scale, timescale: scale), size: sizes[index])))
            }
        }
        return events
    }

    /// The live window fed the recording: 2 s target, a window longer than the recording.
    static func liveWindow(_ events: [SegmentEvent]) -> LiveWindow {
        var window = LiveWindow(name: "news", segmentDuration: MediaTime(value: 2, timescale: 1), window: MediaTime(value: 60, timescale: 1))
        for event in events {
            let size: Int
            switch event {
            case .segmentCompleted(_, let entry): size = entry.size
            case .initialization: size = 100
            default: size = 0
            }
            window.receive(event, body: ByteBuffer(repeating: 0, count: size), etag: "\"x\"")
        }
        window.publish(now: 10)
        return window
    }

    static func package(_ events: [SegmentEvent]) throws -> [String: String] {
        var manifests = PackageManifests(formats: [.hls, .dash], segmentDuration: MediaTime(value: 2, timescale: 1))
        for event in events { manifests.handle(event) }
        return Dictionary(uniqueKeysWithValues: try manifests.documents().map { ($0.path, String(decoding: $0.bytes, as: UTF8.self)) })
    }

    static func text(_ document: LiveWindow.Document?) -> String? {
        document.map { String(buffer: $0.body) }
    }

    /// The lines of a media playlist but the tags only a live or only a VOD playlist has.
    static func common(_ playlist: String) -> [Substring] {
        let onlyOne = ["#EXT-X-MEDIA-SEQUENCE", "#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-PLAYLIST-TYPE", "#EXT-X-ENDLIST"]
        return playlist.split(separator: "\n").filter { line in !onlyOne.contains { line.hasPrefix($0) } }
    }

    @Test func packageAndLiveWindowRenderTheSameManifests() throws {
        let events = Self.recording()
        let package = try Self.package(events)
        let window = Self.liveWindow(events)

        let master = try #require(package["master.m3u8"])
        #expect(Self.text(window.documents["master.m3u8"]) == master)
        #expect(master.contains("GROUP-ID=\"audio-mp4a-40-2\""))
        #expect(master.contains("AVERAGE-BANDWIDTH="))

        for folder in ["video_720p", "video_360p", "audio_eng_aac", "audio_fra_aac"] {
            let vod = try #require(package["\(folder)/playlist.m3u8"])
            let live = try #require(Self.text(window.documents["\(folder)/playlist.m3u8"]))
            #expect(Self.common(live) == Self.common(vod), "\(folder)")
            #expect(live.contains("#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z"))
            #expect(vod.hasSuffix("#EXT-X-ENDLIST\n"))
            #expect(Self.common(vod).count == 15, "\(folder): \(vod)")
        }

        let staticMPD = try #require(package["manifest.mpd"])
        let mpd = try #require(window.mpd)
        let dynamicMPD = mpd.head + "http://localhost/time" + mpd.tail
        let staticOnly: Set<String> = ["mediaPresentationDuration", "maxSegmentDuration"]
        let dynamicOnly: Set<String> = ["availabilityStartTime", "publishTime", "minimumUpdatePeriod", "timeShiftBufferDepth",
                                        "suggestedPresentationDelay", "maxSegmentDuration"]
        let (staticRoot, staticAttributes) = try Self.strip(staticMPD, attributes: staticOnly.union(["type"]))
        let (dynamicRoot, dynamicAttributes) = try Self.strip(dynamicMPD, attributes: dynamicOnly.union(["type"]))
        #expect(staticRoot == dynamicRoot)
        #expect(staticAttributes["type"] == "static")
        #expect(dynamicAttributes["type"] == "dynamic")
        #expect(Set(staticAttributes.keys) == staticOnly.union(["type"]))
        #expect(Set(dynamicAttributes.keys) == dynamicOnly.union(["type"]))
        #expect(staticAttributes["mediaPresentationDuration"] == "PT10S")
    }

    @Test func packageAndLiveWindowListTheSameSplices() throws {
        let section = SpliceInfoSection(command: .insert(SpliceInsert(eventID: 5, spliceTime: 360_000,
                                                                      breakDuration: BreakDuration(autoReturn: true, duration: 180_000)))).encoded()
        let marker = SpliceMarker(id: "splice-5", eventID: 5, start: MediaTime(value: 4, timescale: 1),
                                  plannedDuration: MediaTime(value: 2, timescale: 1), end: MediaTime(value: 6, timescale: 1), section: section)
        let events = Self.recording() + [.splice(marker)]
        let package = try Self.package(events)
        let window = Self.liveWindow(events)
        for folder in ["video_720p", "audio_fra_aac"] {
            let vod = try #require(package["\(folder)/playlist.m3u8"])
            let live = try #require(Self.text(window.documents["\(folder)/playlist.m3u8"]))
            let ranges = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("#EXT-X-DATERANGE") } }
            #expect(ranges(vod).count == 1 && ranges(vod) == ranges(live), "\(folder)")
            #expect(ranges(vod).first?.hasPrefix("#EXT-X-DATERANGE:ID=\"splice-5\",START-DATE=\"1970-01-01T00:00:04.000Z\",DURATION=2.000") == true)
            // Both date every segment when they list a splice; the lines agree.
            #expect(vod.components(separatedBy: "#EXT-X-PROGRAM-DATE-TIME").count == 6)
            #expect(Self.common(live) == Self.common(vod), "\(folder)")
        }
        let staticMPD = try #require(package["manifest.mpd"])
        let mpd = try #require(window.mpd)
        let stream = { (text: String) in text.split(separator: "\n").filter { $0.contains("Event") || $0.contains("scte35:") } }
        #expect(stream(staticMPD).count == 7 && stream(staticMPD) == stream(mpd.head + mpd.tail))
    }

    /// The MPD text without its UTCTiming elements and with `attributes` taken off the MPD
    /// element (returned by name).
    static func strip(_ text: String, attributes: Set<String>) throws -> (String, [String: String]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.contains("<UTCTiming") }
        var taken: [String: String] = [:]
        guard let index = lines.firstIndex(where: { $0.hasPrefix("<MPD ") }) else { return (lines.joined(separator: "\n"), taken) }
        var line = lines[index]
        for name in attributes {
            guard let range = line.range(of: " \(name)=\"") else { continue }
            let valueStart = range.upperBound
            guard let end = line[valueStart...].firstIndex(of: "\"") else { continue }
            taken[name] = String(line[valueStart..<end])
            line.removeSubrange(range.lowerBound...end)
        }
        lines[index] = line
        return (lines.joined(separator: "\n"), taken)
    }
}

/// The package's static MPD and the live window's dynamic one, from the same recording, both
/// pass the DASH schema (xmllint, not Kerf's reader).
@Suite(.tags(.integration)) struct SharedManifestSchemaTests {
    /// Both MPDs validate against the DASH schema (xmllint, not Kerf's reader).
    @Test func bothMPDsValidate() throws {
        let events = SharedManifestModelTests.recording()
        let dir = try Fixtures.temporaryDirectory("kerf-model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let staticPath = dir.appendingPathComponent("static.mpd"), dynamicPath = dir.appendingPathComponent("dynamic.mpd")
        try #require(try SharedManifestModelTests.package(events)["manifest.mpd"]).write(to: staticPath, atomically: true, encoding: .utf8)
        let mpd = try #require(SharedManifestModelTests.liveWindow(events).mpd)
        try (mpd.head + "http://localhost/time" + mpd.tail).write(to: dynamicPath, atomically: true, encoding: .utf8)
        for path in [staticPath, dynamicPath] {
            let result = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, path.path])
            #expect(result.status == 0, "\(path.lastPathComponent): \(result.stderr)")
        }
    }
}

/// Key rotation through the shared model: each segment carries its key period's protection,
/// and HLS names the period's keys where it starts, for packages and live windows alike.
extension SharedManifestModelTests {
    @Test func keyPeriodsAreNamedWhereTheyStart() throws {
        func period(_ index: Int) -> ContentProtection {
            let kid = [UInt8](repeating: UInt8(0x10 + index), count: 16)
            return ContentProtection(scheme: .cbcs, keyID: kid, keyURI: nil, systems: [
                .init(id: ContentProtection.System.widevineID, pssh: [1, 2, 3],
                      hls: .init(keyFormat: "urn:uuid:\(ContentProtection.System.widevineID)", keyFormatVersions: "1",
                                 uri: "data:text/plain;base64,AQID\(index)")),
            ])
        }
        let rendition = ContentProtection(scheme: .cbcs, keyID: [UInt8](repeating: 0, count: 16), keyURI: nil,
                                          systems: [.init(id: ContentProtection.System.widevineID)])
        let events = Self.recording().map { event -> SegmentEvent in
            switch event {
            case .started(var description):
                description.protection = rendition
                return .started(description)
            case .segmentCompleted(let id, var entry):
                entry.protection = period(Int(entry.sequence) / 2)
                return .segmentCompleted(rendition: id, entry)
            default: return event
            }
        }
        let package = try Self.package(events)
        let window = Self.liveWindow(events)
        let playlist = try #require(package["video_720p/playlist.m3u8"])
        #expect(Self.common(try #require(Self.text(window.documents["video_720p/playlist.m3u8"]))) == Self.common(playlist))
        let lines = playlist.split(separator: "\n")
        let keys = lines.enumerated().filter { $0.element.hasPrefix("#EXT-X-KEY:") }
        #expect(keys.map { $0.element.firstMatch(of: /KEYID=0x([0-9a-f]+)/).map { String($0.1.prefix(2)) } } == ["10", "11", "12"])
        // Each key comes right before the first segment of its period (after EXTINF-less tags).
        let segmentsBefore = keys.map { key in lines[..<key.offset].filter { $0.hasPrefix("seg_") }.count }
        #expect(segmentsBefore == [0, 2, 4])
        let mpd = try #require(package["manifest.mpd"])
        #expect(mpd.contains("cenc:default_KID=\"00000000-0000-0000-0000-000000000000\"") && !mpd.contains("<cenc:pssh>"))
    }
}
