import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// SCTE-35 and cue lists in packages, checked against oracles: threefive encodes the splice
/// that goes in and decodes what Kerf writes, superkabuki puts it in an MPEG-TS made by ffmpeg,
/// xmllint checks the MPD against the DASH schema, ffmpeg decodes the package, and x9k3 cuts
/// the same input for comparison.
@Suite(.tags(.integration)) struct SpliceTests {
    /// A 30 s MPEG-TS with keyframes at these seconds only: 11 and 17 are off the 4 s grid.
    static let keyframes: [Double] = [0, 4, 8, 11, 12, 16, 17, 20, 24, 28]

    struct Inputs: Sendable {
        var directory: URL
        /// No SCTE-35 (for cue lists).
        var plain: String
        /// A splice_insert: out at 11.0 s, 6.0 s break, auto-return, event 1234.
        var spliced: String
        /// The first video packet's time (the presentation's origin).
        var origin: Double
    }

    /// Made once for the suite.
    static let inputs: Result<Inputs, any Error> = Result {
        let missing = SCTE35Tools.missing
        guard missing.isEmpty else { throw CommandError(message: "SCTE-35 oracles missing (make test-deps): \(missing.joined(separator: ", "))") }
        let directory = try Fixtures.temporaryDirectory("kerf-splice")
        let plain = directory.appendingPathComponent("plain.ts").path
        try SCTE35Tools.makeTransportStream(plain, keyframes: keyframes)
        let origin = try SCTE35Tools.firstVideoTime(plain)
        let section = try SCTE35Tools.spliceInsert(eventID: 1234, pts: origin + 11, duration: 6)
        let spliced = directory.appendingPathComponent("spliced.ts").path
        try SCTE35Tools.inject(plain, spliced, cues: [(origin + 9, section)])
        return Inputs(directory: directory, plain: plain, spliced: spliced, origin: origin)
    }

    /// One media segment as listed: start (sum of EXTINFs), its date and its DATERANGEs.
    struct Listed {
        var start: Double
        var uri: String
        var programDateTime: String?
        var dateRanges: [[String: String]]
        var tags: [String]
    }

    static func segments(_ playlist: URL) throws -> [Listed] {
        var result: [Listed] = []
        var start = 0.0, date: String?, ranges: [[String: String]] = [], tags: [String] = [], duration = 0.0
        for line in try String(contentsOf: playlist, encoding: .utf8).split(separator: "\n").map(String.init) {
            if line.hasPrefix("#EXT-X-PROGRAM-DATE-TIME:") { date = String(line.dropFirst(25)) }
            else if line.hasPrefix("#EXT-X-DATERANGE:") { ranges.append(attributes(String(line.dropFirst(17)))) }
            else if line.hasPrefix("#EXT-X-CUE") { tags.append(line) }
            else if line.hasPrefix("#EXTINF:") { duration = Double(line.dropFirst(8).prefix { $0 != "," }) ?? -1 }
            else if !line.hasPrefix("#") && !line.isEmpty {
                result.append(Listed(start: start, uri: line, programDateTime: date, dateRanges: ranges, tags: tags))
                start += duration
                date = nil; ranges = []; tags = []
            }
        }
        return result
    }

    /// An attribute list (quoted values unquoted).
    static func attributes(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            let name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            let value: Substring
            if rest.first == "\"" {
                let close = rest.dropFirst().firstIndex(of: "\"") ?? rest.endIndex
                value = rest[rest.index(after: rest.startIndex)..<close]
                rest = close < rest.endIndex ? rest[rest.index(after: close)...] : ""
            } else {
                let comma = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<comma]
                rest = rest[comma...]
            }
            result[name] = String(value)
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return result
    }

    func package(_ input: String, _ options: [String]) throws -> (out: URL, result: Command.Result) {
        let out = try Fixtures.temporaryDirectory("kerf-splice-out").appendingPathComponent("out")
        let result = try Command.run(Fixtures.kerf, ["package", input, "-o", out.path] + options)
        #expect(result.status == 0, "kerf package failed: \(result.stderr)")
        return (out, result)
    }

    func validateMPD(_ path: String) throws {
        let result = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, path])
        #expect(result.status == 0, "MPD does not validate: \(result.stderr)")
    }

    func decodes(_ manifest: String) throws {
        let result = try Command.run("ffmpeg", ["-v", "error", "-i", manifest, "-map", "0", "-f", "null", "-"])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(manifest): \(result.stderr)")
    }

    @Test func spliceInsertInTransportStreamCutsAndIsListed() throws {
        let inputs = try Self.inputs.get()
        let (out, result) = try package(inputs.spliced, ["--segment-duration", "4", "--formats", "hls,dash,hls-ts",
                                                         "--program-date-time", "2026-01-01T00:00:00Z", "--json"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let summary = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        let splices = summary?["splices"] as? [[String: Any]] ?? []
        #expect(splices.count == 1)
        #expect(splices.first?["start"] as? Double == 11 && splices.first?["end"] as? Double == 17 && splices.first?["shift"] as? Double == 0)
        for (folder, tolerance) in [("video_180p", 0.0005), ("ts_video_180p", 0.0005), ("audio_und_aac", 0.03)] {
            let listed = try Self.segments(out.appendingPathComponent("\(folder)/playlist.m3u8"))
            let starts = listed.map(\.start)
            for boundary in [11.0, 17.0] {
                #expect(starts.contains { abs($0 - boundary) <= tolerance }, "\(folder): no segment starts at \(boundary) s: \(starts)")
            }
            #expect(listed.allSatisfy { $0.programDateTime != nil }, "\(folder): EXT-X-PROGRAM-DATE-TIME missing")
            let marked = listed.filter { !$0.dateRanges.isEmpty }
            #expect(marked.count == 1, "\(folder): \(marked.count) segments with a DATERANGE")
            guard let segment = marked.first, let range = segment.dateRanges.first else { continue }
            #expect(abs(segment.start - 11) <= tolerance)
            if folder != "audio_und_aac" { #expect(range["START-DATE"] == segment.programDateTime) }
            #expect(range["START-DATE"] == "2026-01-01T00:00:11.000Z")
            #expect(range["PLANNED-DURATION"] == "6.000" && range["DURATION"] == "6.000" && range["ID"] != nil)
            let decoded = try SCTE35Tools.decode(range["SCTE35-OUT"] ?? "")
            let command = decoded["command"] as? [String: Any] ?? [:]
            #expect(command["splice_event_id"] as? Int == 1234)
            #expect(command["break_duration"] as? Double == 6.0 && command["break_auto_return"] as? Bool == true)
            #expect(abs((command["pts_time"] as? Double ?? 0) - (inputs.origin + 11)) < 0.0001)
        }
        let mpd = out.appendingPathComponent("manifest.mpd")
        try validateMPD(mpd.path)
        let text = try String(contentsOf: mpd, encoding: .utf8)
        #expect(text.contains("<EventStream schemeIdUri=\"urn:scte:scte35:2014:xml+bin\" timescale=\"90000\">"))
        #expect(text.contains("<Event presentationTime=\"990000\" duration=\"540000\" id=\"1234\">"))
        let binary = text.components(separatedBy: "<scte35:Binary>").dropFirst().first?.components(separatedBy: "<").first ?? ""
        let fromMPD = try SCTE35Tools.decode(binary)
        #expect((fromMPD["command"] as? [String: Any])?["splice_event_id"] as? Int == 1234)
        for manifest in ["master.m3u8", "master-ts.m3u8", "manifest.mpd"] { try decodes(out.appendingPathComponent(manifest).path) }
    }

    /// `--dash-events inband`: the splice goes into the video segment cut for it as an emsg
    /// (SCTE 214-3), signalled by an InbandEventStream instead of the Period's EventStream;
    /// `period,inband` gives both.
    @Test func splicesGoInBandWhenAsked() throws {
        let inputs = try Self.inputs.get()
        let scheme = "urn:scte:scte35:2013:bin"
        for (events, periodStream) in [("inband", false), ("period,inband", true)] {
            let (out, _) = try package(inputs.spliced, ["--segment-duration", "4", "--formats", "hls,dash", "--dash-events", events])
            defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
            let messages = try TimedMetadataTests.messages(in: out.appendingPathComponent("video_180p"))
            #expect(messages.count == 1, "\(events): \(messages)")
            if let message = messages.first {
                #expect(message.segment == "seg_4.m4s" && message.scheme == scheme && message.id == 1234)
                #expect(abs(message.seconds - 11) < 0.001 && message.duration.map { abs($0 - 6) < 0.001 } == true, "\(message)")
                let decoded = try SCTE35Tools.decode("0x" + message.data.map { String(format: "%02x", $0) }.joined())
                let command = decoded["command"] as? [String: Any] ?? [:]
                #expect(command["splice_event_id"] as? Int == 1234 && command["break_duration"] as? Double == 6.0)
            }
            #expect(try TimedMetadataTests.messages(in: out.appendingPathComponent("audio_und_aac")).isEmpty)
            let mpd = out.appendingPathComponent("manifest.mpd")
            try validateMPD(mpd.path)
            let text = try String(contentsOf: mpd, encoding: .utf8)
            #expect(text.components(separatedBy: "<InbandEventStream schemeIdUri=\"\(scheme)\"/>").count == 2, "\(text)")
            #expect(text.contains("<EventStream ") == periodStream)
            let deep = try Command.run(Fixtures.kerf, ["validate", "--deep", mpd.path])
            #expect(deep.status == 0 && deep.stdout.contains("0 errors, 0 warnings"), "\(deep.stdout)")
            try decodes(mpd.path)
        }
        let result = try Command.run(Fixtures.kerf, ["package", inputs.spliced, "-o", inputs.directory.appendingPathComponent("never").path,
                                                     "--dash-events", "inline"])
        #expect(result.status != 0 && result.stderr.contains("unknown --dash-events value 'inline' (use period, inband)"), "\(result.stderr)")
    }

    /// Without video the audio carries the splice, in the segment cut for it (the cut may come
    /// up to half an audio frame early) and timed at that cut.
    @Test func audioOnlyPackagesCarryTheSpliceInTheSegmentCutForIt() throws {
        let directory = try Fixtures.temporaryDirectory("kerf-splice-audio")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cues = directory.appendingPathComponent("cues.yaml")
        try "- time: 5\n  duration: 2\n  id: \"42\"\n".write(to: cues, atomically: true, encoding: .utf8)
        let (out, _) = try package(Fixtures.path("audio_only.m4a"), ["--segment-duration", "2", "--cues", cues.path, "--formats", "hls,dash",
                                                                     "--dash-events", "inband"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasPrefix("audio_") })
        let listed = try Self.segments(out.appendingPathComponent("\(folder)/playlist.m3u8"))
        let messages = try TimedMetadataTests.messages(in: out.appendingPathComponent(folder))
        #expect(messages.count == 1, "\(messages)")
        let message = try #require(messages.first)
        let segment = try #require(listed.first { $0.uri == message.segment })
        #expect(abs(segment.start - 5) < 0.03 && abs(message.seconds - segment.start) < 0.001, "\(message) in \(segment)")
        #expect(message.id == 42 && message.duration.map { abs($0 - 2) < 0.001 } == true)
    }

    @Test func timeSignalSegmentationStartAndEndMakeABreak() throws {
        let inputs = try Self.inputs.get()
        let start = try SCTE35Tools.timeSignal(type: 0x34, eventID: 0x77, pts: inputs.origin + 11, duration: 6)
        let end = try SCTE35Tools.timeSignal(type: 0x35, eventID: 0x77, pts: inputs.origin + 17, duration: nil)
        let signalled = inputs.directory.appendingPathComponent("time-signal.ts").path
        try SCTE35Tools.inject(inputs.plain, signalled, cues: [(inputs.origin + 9, start), (inputs.origin + 15, end)])
        let (out, _) = try package(signalled, ["--segment-duration", "4", "--formats", "hls,dash"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let listed = try Self.segments(out.appendingPathComponent("video_180p/playlist.m3u8"))
        let out11 = try #require(listed.first { $0.start == 11 }?.dateRanges.first)
        let in17 = try #require(listed.first { $0.start == 17 }?.dateRanges.first)
        #expect(out11["ID"] == in17["ID"] && out11["START-DATE"] == in17["START-DATE"] && in17["DURATION"] == "6.000")
        let descriptors = { (hex: String?) throws -> [[String: Any]] in try SCTE35Tools.decode(hex ?? "")["descriptors"] as? [[String: Any]] ?? [] }
        #expect(try descriptors(out11["SCTE35-OUT"]).first?["segmentation_type_id"] as? Int == 0x34)
        #expect(try descriptors(in17["SCTE35-IN"]).first?["segmentation_type_id"] as? Int == 0x35)
        try validateMPD(out.appendingPathComponent("manifest.mpd").path)
    }

    @Test func cueListCutsAtKeyframesAndMovesBetweenThem() throws {
        let inputs = try Self.inputs.get()
        let cues = inputs.directory.appendingPathComponent("cues.json")
        // 11 s has a keyframe off the 4 s grid; 21.5 s has none (the next is at 24 s).
        try #"[{"time": 11, "duration": 6, "id": "ad-1"}, {"time": 21.5, "duration": 4}]"#.write(to: cues, atomically: true, encoding: .utf8)
        let (out, result) = try package(inputs.plain, ["--segment-duration", "4", "--cues", cues.path, "--ad-markers", "daterange,cue",
                                                       "--cue-periods", "--json"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        #expect(result.stderr.contains("kerf: warning: splice splice-2: out at 21.500 s has no keyframe; the break starts at the next one, 24.000 s (+2.500 s)"),
                "\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        let shifts = (summary?["splices"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0["shift"] as? Double ?? -1) }
        #expect(shifts.map(\.0) == ["ad-1", "splice-2"] && shifts.map(\.1) == [0, 2.5])
        let listed = try Self.segments(out.appendingPathComponent("video_180p/playlist.m3u8"))
        #expect(listed.map(\.start) == [0, 4, 8, 11, 12, 16, 17, 20, 24, 28])
        let at11 = listed.first { $0.start == 11 }, at24 = listed.first { $0.start == 24 }
        #expect(at11?.dateRanges.first?["ID"] == "ad-1" && at11?.dateRanges.first?["START-DATE"] == at11?.programDateTime)
        #expect(at24?.dateRanges.first?["ID"] == "splice-2" && at24?.dateRanges.first?["START-DATE"] == "1970-01-01T00:00:24.000Z")
        #expect(at11?.tags == ["#EXT-X-CUE-OUT:6.000"] && listed.first { $0.start == 17 }?.tags == ["#EXT-X-CUE-IN"])
        #expect(listed.first { $0.start == 12 }?.tags == ["#EXT-X-CUE-OUT-CONT:ElapsedTime=1.000,Duration=6.000"])
        // A cue without a section gets a splice_insert that threefive reads back.
        let decoded = try SCTE35Tools.decode(at24?.dateRanges.first?["SCTE35-OUT"] ?? "")
        #expect((decoded["command"] as? [String: Any])?["splice_event_id"] as? Int == 2)
        #expect((decoded["command"] as? [String: Any])?["break_duration"] as? Double == 4.0)
        // Periods at every out and return, segment names unchanged: each Period's startNumber
        // follows the previous Period's segments.
        let mpd = out.appendingPathComponent("manifest.mpd")
        try validateMPD(mpd.path)
        let text = try String(contentsOf: mpd, encoding: .utf8)
        let starts = text.components(separatedBy: "<Period ").dropFirst().map { $0.components(separatedBy: "start=\"")[1].prefix { $0 != "\"" } }
        #expect(starts == ["PT0S", "PT11S", "PT17S", "PT24S", "PT28S"])
        let video = text.components(separatedBy: "media=\"video_180p/seg_$Number$.m4s\" startNumber=\"").dropFirst()
            .map { Int($0.prefix { $0 != "\"" }) ?? -1 }
        #expect(video == [1, 4, 7, 9, 10])
    }

    @Test func reencodedPackagesCutExactlyAtTheCue() throws {
        let inputs = try Self.inputs.get()
        let cues = inputs.directory.appendingPathComponent("cues.yaml")
        try "- time: 13\n  duration: 2\n".write(to: cues, atomically: true, encoding: .utf8)
        let (out, _) = try package(inputs.plain, ["--segment-duration", "4", "--cues", cues.path, "--transcode", "always", "--formats", "hls"])
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let folder = try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasPrefix("video_") } ?? ""
        let listed = try Self.segments(out.appendingPathComponent("\(folder)/playlist.m3u8"))
        #expect(listed.contains { abs($0.start - 13) < 0.0005 && !$0.dateRanges.isEmpty }, "\(listed.map(\.start))")
        #expect(listed.contains { abs($0.start - 15) < 0.0005 }, "\(listed.map(\.start))")
    }

    /// x9k3 segments the same input and cuts at the splice out and in as Kerf does; its other
    /// cuts differ by design (it measures the target from the previous cut, Kerf from the
    /// presentation start), and it dates its DATERANGEs by the wall clock.
    @Test func x9k3CutsAtTheSameSplicePoints() throws {
        let inputs = try Self.inputs.get()
        let dir = try Fixtures.temporaryDirectory("kerf-x9k3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Command.run(SCTE35Tools.x9k3, ["-i", inputs.spliced, "-t", "4", "-T", "x_daterange", "-o", dir.path])
        #expect(result.status == 0, "x9k3: \(result.stderr)")
        let theirs = try Self.segments(dir.appendingPathComponent("index.m3u8")).map(\.start)
        for boundary in [11.0, 17.0] { #expect(theirs.contains { abs($0 - boundary) < 0.01 }, "x9k3 cuts at \(theirs)") }
    }
}
