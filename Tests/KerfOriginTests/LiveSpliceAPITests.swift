import Foundation
import KerfTestSupport
import KerfTestTags
import KerfMedia
import Testing
@testable import KerfOrigin
@testable import KerfRTMP

/// Splices on live channels, end to end: the operator API (curl), SCTE-35 in an MPEG-TS input
/// (made by ffmpeg, cues put in by superkabuki) and an RTMP publisher's `onCuePoint` cut a
/// segment at the splice and list it; threefive
/// decodes the sections Kerf writes, xmllint checks the MPD against the DASH schema.
@Suite(.serialized, .tags(.integration)) struct LiveSpliceAPITests {
    static let token = "admin-token-of-some-length"

    /// An origin with channel `news` on `input` (2 s segments) and the admin token.
    static func origin(_ input: String, extra: [String: OriginConfiguration.Channel] = [:]) async throws -> RunningOrigin {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-splice-root").path
        configuration.adminToken = token
        configuration.channels["news"] = .init(input: input, segmentDuration: 2, window: 30)
        configuration.channels.merge(extra) { $1 }
        return try await RunningOrigin(configuration)
    }

    /// POSTs `body` to a channel's splice API; returns the status and body.
    static func post(_ origin: RunningOrigin, channel: String = "news", _ body: String, token: String? = token) async throws -> (Int, String) {
        var arguments = ["-X", "POST", "-H", "Content-Type: application/json", "--data", body]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let response = try await curl(arguments + [origin.base + "/api/channels/\(channel)/splice"])
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    /// A media playlist's segments: URI, PROGRAM-DATE-TIME and the DATERANGE attributes listed with it.
    static func segments(_ playlist: String) -> [(uri: String, date: String?, ranges: [[String: String]])] {
        var result: [(uri: String, date: String?, ranges: [[String: String]])] = []
        var date: String?, ranges: [[String: String]] = []
        for line in playlist.split(separator: "\n").map(String.init) {
            if line.hasPrefix("#EXT-X-PROGRAM-DATE-TIME:") { date = String(line.dropFirst(25)) }
            if line.hasPrefix("#EXT-X-DATERANGE:") {
                var attributes: [String: String] = [:]
                for match in line.matches(of: /([A-Z0-9-]+)=("[^"]*"|[^,]*)/) { attributes[String(match.1)] = String(match.2).trimmingCharacters(in: ["\""]) }
                ranges.append(attributes)
            }
            if !line.hasPrefix("#"), !line.isEmpty {
                result.append((line, date, ranges))
                date = nil
                ranges = []
            }
        }
        return result
    }

    /// Seconds since 1970 of a UTC xs:dateTime, with or without fractional seconds.
    static func seconds(_ date: String) throws -> Double {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = date.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return try #require(formatter.date(from: date), "\(date)").timeIntervalSince1970
    }

    /// The break's DATERANGE out (with the segment it starts) and in, once both are listed.
    static func listedBreak(_ playlist: String) throws -> (segment: (uri: String, date: String?), out: [String: String], in: [String: String]) {
        let listed = segments(playlist)
        let start = try #require(listed.first { $0.ranges.contains { $0["SCTE35-OUT"] != nil } })
        let out = try #require(start.ranges.first { $0["SCTE35-OUT"] != nil })
        let back = try #require(listed.flatMap(\.ranges).first { $0["SCTE35-IN"] != nil && $0["ID"] == out["ID"] })
        return ((start.uri, start.date), out, back)
    }

    /// The MPD validates and lists the break's Event at the DATERANGE's START-DATE.
    static func checkMPD(_ origin: RunningOrigin, startDate: String, eventID: Int) async throws {
        let response = try await curl([origin.base + "/live/news/manifest.mpd"])
        #expect(response.status == 200)
        let schema = try await Live.schemaCheck(response.body)
        #expect(schema.status == 0, "\(schema.stderr)")
        let mpd = String(decoding: response.body, as: UTF8.self)
        #expect(mpd.contains("<EventStream schemeIdUri=\"urn:scte:scte35:2014:xml+bin\" timescale=\"90000\">"))
        let available = try #require(mpd.firstMatch(of: /availabilityStartTime="([^"]+)"/)?.1)
        let period = try #require(mpd.firstMatch(of: /<Period id="[^"]*" start="PT([0-9.]+)S"/)?.1)
        let event = try #require(mpd.firstMatch(of: /<Event presentationTime="([0-9]+)"[^>]* id="([0-9]+)"/))
        #expect(Int(event.2) == eventID)
        let at = try seconds(String(available)) + Double(period)! + Double(event.1)! / 90_000
        #expect(abs(at - (try seconds(startDate))) < 0.0015, "\(mpd)")
    }

    @Test func operatorBreakIsCutListedAndSignalled() async throws {
        let idle = try Live.port()
        let origin = try await Self.origin(Fixtures.path("h264_aac_10s.mp4"),
                                           extra: ["idle": .init(input: Live.listening(idle), segmentDuration: 2, window: 30)])
        defer { Task { await origin.stop() } }
        try await Live.waitForPlaylist(origin, segments: 1, within: 20, folder: "video_360p")
        // Admission and bad requests.
        #expect(try await Self.post(origin, "{}", token: nil).0 == 401)
        #expect(try await Self.post(origin, "{}", token: "not-the-admin-token").0 == 401)
        #expect(try await Self.post(origin, channel: "nope", "{}").0 == 404)
        let elsewhere = try await curl(["-X", "POST", "-H", "Authorization: Bearer \(Self.token)", "--data", "{}", origin.base + "/api/channels/news/other"])
        #expect(elsewhere.status == 404)
        #expect(try await curl(["-X", "POST", "--data", "{}", origin.base + "/live/news/master.m3u8"]).status == 413)
        let bad = try await Self.post(origin, "{\"duration\": \"long\"}")
        #expect(bad.0 == 400 && bad.1 == "duration must be a number of seconds\n")
        #expect(try await Self.post(origin, "{\"type\": \"sideways\"}").0 == 400)
        #expect(try await Self.post(origin, "{\"when\": 3}").0 == 400)
        #expect(try await Self.post(origin, "{\"time\": \"tomorrow\"}").0 == 400)
        #expect(try await Self.post(origin, "[1, 2").0 == 400)
        #expect(try await Self.post(origin, channel: "idle", "{}").0 == 409)
        #expect(try await Self.post(origin, "{\"type\": \"in\"}").0 == 409)

        let (status, answer) = try await Self.post(origin, "{\"duration\": 4, \"id\": \"break-1\"}")
        #expect(status == 202, "\(answer)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        #expect(json["id"] as? String == "break-1" && json["time"] is Double)
        // The operator page names the break while it runs.
        try await waitUntil("the operator page listing the break", timeout: .seconds(10), poll: .milliseconds(250)) {
            let page = try await curl(["-H", "Authorization: Bearer \(Self.token)", origin.base + "/?part=live"])
            return String(decoding: page.body, as: UTF8.self).contains("<td>break-1: ")
        }

        let playlist = try await Live.waitForPlaylist(origin, segments: 1, containing: "SCTE35-IN", within: 25, folder: "video_360p")
        let listed = try Self.listedBreak(playlist)
        #expect(listed.out["ID"] == "break-1" && listed.out["PLANNED-DURATION"] == "4.000")
        // START-DATE is the PROGRAM-DATE-TIME of the segment the break starts with.
        #expect(listed.segment.date == listed.out["START-DATE"])
        #expect(listed.in["START-DATE"] == listed.out["START-DATE"] && listed.in["DURATION"] != nil)
        let decoded = try SCTE35Tools.decode(listed.out["SCTE35-OUT"] ?? "")
        let command = decoded["command"] as? [String: Any] ?? [:]
        #expect(command["name"] as? String == "Splice Insert")
        #expect(command["out_of_network_indicator"] as? Bool == true)
        #expect(command["break_duration"] as? Double == 4.0 && command["break_auto_return"] as? Bool == true)
        let returned = try SCTE35Tools.decode(listed.in["SCTE35-IN"] ?? "")
        #expect((returned["command"] as? [String: Any])?["out_of_network_indicator"] as? Bool == false)
        try await Self.checkMPD(origin, startDate: try #require(listed.out["START-DATE"]),
                                eventID: try #require(command["splice_event_id"] as? Int))
        // The validator finds nothing wrong with the playlists that list the break.
        let validated = try await Command.runDetached(Fixtures.kerf, ["validate", origin.base + "/live/news/master.m3u8"])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
    }

    @Test func scte35InTheInputCutsAtTheSplice() async throws {
        let missing = SCTE35Tools.missing
        try #require(missing.isEmpty, "SCTE-35 oracles missing (make test-deps): \(missing.joined(separator: ", "))")
        let directory = try Fixtures.temporaryDirectory("kerf-live-scte35")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Keyframes every second; the splice at 5 s is off the 2 s grid.
        let spliced = try SCTE35Tools.splicedTransportStream(in: directory, keyframes: (0..<12).map(Double.init), seconds: 12, eventID: 1234,
                                                             out: 5, duration: 3, signalledAt: 2)
        // A second channel on the same input with `ad-periods: true` and `dash-events: period,inband`.
        var ads = OriginConfiguration.Channel(input: spliced, segmentDuration: 2, window: 30)
        ads.adPeriods = true
        ads.dashEvents = [.period, .inband]
        let origin = try await Self.origin(spliced, extra: ["ads": ads])
        defer { Task { await origin.stop() } }
        let playlist = try await Live.waitForPlaylist(origin, segments: 1, containing: "SCTE35-IN", within: 25, folder: "video_180p")
        let listed = try Self.listedBreak(playlist)
        #expect(listed.segment.date == listed.out["START-DATE"])
        #expect(listed.in["DURATION"] == "3.000")
        // The break starts 5 s after the epoch's first segment (named by its start, 90 kHz).
        let uris = Self.segments(playlist).map(\.uri)
        let start = try #require(Int(listed.segment.uri.dropFirst(4).dropLast(4)))
        let epoch = try #require(uris.compactMap { Int($0.dropFirst(4).dropLast(4)) }.first)
        #expect((start - epoch) % 90_000 == 0 && ((start - epoch) / 90_000) % 12 == 5, "\(uris)")
        let decoded = try SCTE35Tools.decode(listed.out["SCTE35-OUT"] ?? "")
        let command = decoded["command"] as? [String: Any] ?? [:]
        #expect(command["splice_event_id"] as? Int == 1234 && command["break_duration"] as? Double == 3.0)
        try await Self.checkMPD(origin, startDate: try #require(listed.out["START-DATE"]), eventID: 1234)
        try await Self.checkAdPeriods(origin, channel: "ads", eventID: 1234, breakSeconds: 3)
    }

    /// A channel with `ad-periods: true` and in-band events: its MPD (valid) has a Period at the
    /// break's start (named by its start in ms) and one at its return; the segment the break
    /// starts with carries the splice as an emsg at that time; `kerf validate` finds no error.
    static func checkAdPeriods(_ origin: RunningOrigin, channel: String, eventID: Int, breakSeconds: Double) async throws {
        let url = origin.base + "/live/\(channel)/manifest.mpd"
        let mpd = try await waitFor("\(channel)'s MPD with Periods at the break", timeout: .seconds(20), poll: .milliseconds(250)) {
            let text = String(decoding: try await curl([url]).body, as: UTF8.self)
            return text.components(separatedBy: "<Period ").count - 1 >= 3 ? text : nil
        }
        let schema = try await Live.schemaCheck(Data(mpd.utf8))
        #expect(schema.status == 0, "\(schema.stderr)")
        #expect(mpd.contains("<InbandEventStream schemeIdUri=\"urn:scte:scte35:2013:bin\"/>"))
        let periods = mpd.matches(of: /<Period id="([^"]*)" start="PT([0-9.]+)S"/).map { (String($0.1), Double($0.2)!) }
        let playlist = String(decoding: try await curl([origin.base + "/live/\(channel)/video_180p/playlist.m3u8"]).body, as: UTF8.self)
        let listed = try Self.listedBreak(playlist)
        let start = try #require(Int(listed.segment.uri.dropFirst(4).dropLast(4)))
        let seconds = Double(start) / 90_000
        let index = try #require(periods.firstIndex { abs($0.1 - seconds) < 0.001 }, "no Period at \(seconds) s: \(periods)")
        #expect(periods[index].0 == "\(Int((seconds * 1000).rounded()))")
        #expect(index + 1 < periods.count && abs(periods[index + 1].1 - seconds - breakSeconds) < 0.001, "\(periods)")
        let segment = try await curl([origin.base + "/live/\(channel)/video_180p/\(listed.segment.uri)"])
        let messages = EventMessageBox.read(Array(segment.body))
        #expect(messages.count == 1 && abs((messages.first?.seconds ?? 0) - seconds) < 0.0001, "\(messages)")
        let section = try SCTE35Tools.decode("0x" + (messages.first?.data ?? []).map { String(format: "%02x", $0) }.joined())
        #expect((section["command"] as? [String: Any])?["splice_event_id"] as? Int == eventID)
        let validation = try await Command.runDetached(Fixtures.kerf, ["validate", url])
        #expect(validation.status == 0, "\(validation.stdout)")
    }

    /// A push channel: a hand-made publisher sends a file's packets (keyframes every 2 s) with an
    /// `onCuePoint` asking for a 2 s break at its 6 s; the API asks for another while it publishes.
    @Test func rtmpCuePointAndTheAPICutAPushChannel() async throws {
        var configuration = OriginConfiguration()
        configuration.root = try Fixtures.temporaryDirectory("kerf-live-splice-rtmp").path
        configuration.adminToken = Self.token
        configuration.rtmpListen = "127.0.0.1:0"
        configuration.channels["news"] = .init(input: "rtmp", segmentDuration: 2, window: 30)
        configuration.channels["news"]?.key = "key-of-news"
        let origin = try await RunningOrigin(configuration)
        defer { Task { await origin.stop() } }
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let video = try #require(input.tracks.first { $0.mediaType == .video })
        let audio = try #require(input.tracks.first { $0.mediaType == .audio })
        let publisher = try RawRTMPPublisher(port: try #require(origin.server.rtmpPort), path: "news?key=key-of-news")
        publisher.media(9, 0, [0x17, 0, 0, 0, 0] + video.extradata)
        publisher.media(8, 0, [0xAF, 0] + audio.extradata)
        publisher.data([.string("onCuePoint"), .object([
            .init(key: "name", value: .string("cue-out")), .init(key: "time", value: .number(6.2)),
            .init(key: "parameters", value: .object([.init(key: "duration", value: .number(2)), .init(key: "id", value: .string("rtmp-break"))])),
        ])], 0)
        // Timed text at the file's 3 s: an ID3 emsg of the segment it falls in.
        publisher.data([.string("onTextData"), .object([.init(key: "text", value: .string("Hello from RTMP"))])], 3_200)
        // Sent faster than real time (the channel reads it at the wall clock's pace), RTMP
        // timestamps 200 ms ahead (B-frames start below zero): the cue's 6.2 s is the file's 6 s.
        let packet = Packet()
        while try input.read(into: packet) == .packet {
            guard let dts = packet.dts?.rescaled(to: 1000).value, let pts = packet.pts?.rescaled(to: 1000).value else { continue }
            if packet.streamIndex == video.index {
                let offset = Int32(pts - dts)
                publisher.media(9, dts + 200, [packet.isKeyframe ? 0x17 : 0x27, 1, UInt8(truncatingIfNeeded: offset >> 16),
                                         UInt8(truncatingIfNeeded: offset >> 8), UInt8(truncatingIfNeeded: offset)] + packet.bytes)
            } else if packet.streamIndex == audio.index {
                publisher.media(8, dts + 200, [0xAF, 1] + packet.bytes)
            }
        }
        let folder = "video_\(video.height ?? 0)p"
        try await Live.waitForPlaylist(origin, segments: 1, within: 20, folder: folder)
        let (status, answer) = try await Self.post(origin, "{\"duration\": 1}")
        #expect(status == 202, "\(answer)")
        let apiID = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])["id"] as? String
        publisher.finish()

        var playlist = ""
        try await waitUntil("both breaks listed with their returns", timeout: .seconds(25), poll: .milliseconds(250)) {
            playlist = String(decoding: try await curl([origin.base + "/live/news/\(folder)/playlist.m3u8"]).body, as: UTF8.self)
            let ranges = Self.segments(playlist).flatMap(\.ranges)
            return [apiID, "rtmp-break"].allSatisfy { id in ranges.contains { $0["ID"] == id && $0["SCTE35-IN"] != nil } }
        }
        let listed = Self.segments(playlist)
        let first = try Self.seconds(try #require(listed.first?.date))
        for id in [apiID, "rtmp-break"] {
            let start = try #require(listed.first { $0.ranges.contains { $0["ID"] == id && $0["SCTE35-OUT"] != nil } })
            let out = try #require(start.ranges.first { $0["ID"] == id })
            #expect(start.date == out["START-DATE"])
            let decoded = try SCTE35Tools.decode(out["SCTE35-OUT"] ?? "")
            #expect((decoded["command"] as? [String: Any])?["out_of_network_indicator"] as? Bool == true)
            if id == "rtmp-break" {
                // The cue's 6 s, a keyframe: the break's segment starts 6 s after the first.
                let at = try Self.seconds(try #require(start.date))
                #expect(abs(at - first - 6) < 0.0005, "\(playlist)")
                #expect((decoded["command"] as? [String: Any])?["break_duration"] as? Double == 2.0)
            }
        }
        // The onTextData: one ID3 emsg (TXXX rtmp=onTextData, text=…) 3 s after the first segment.
        let firstStart = try #require(listed.first.flatMap { Int($0.uri.dropFirst(4).dropLast(4)) })
        var messages: [EventMessageBox] = []
        for segment in listed {
            let body = try await curl([origin.base + "/live/news/\(folder)/\(segment.uri)"]).body
            messages += EventMessageBox.read(Array(body))
        }
        #expect(messages.count == 1, "\(messages)")
        if let message = messages.first {
            #expect(message.scheme == "https://aomedia.org/emsg/ID3")
            // Segments are named by their start in the track's timescale, the emsg's.
            #expect(abs(message.seconds - Double(firstStart) / Double(message.timescale) - 3) < 0.002, "\(message.seconds)")
            let text = String(decoding: message.data, as: UTF8.self)
            #expect(message.data.starts(with: Array("ID3".utf8) + [4]) && text.contains("rtmp\0onTextData") && text.contains("text\0Hello from RTMP"))
        }
        let mpd = String(decoding: try await curl([origin.base + "/live/news/manifest.mpd"]).body, as: UTF8.self)
        #expect(mpd.contains("<InbandEventStream schemeIdUri=\"https://aomedia.org/emsg/ID3\"/>"), "\(mpd)")
    }
}
