import Foundation

/// The SCTE-35 oracles (`make test-deps` installs them): threefive (PyPI, the reference
/// SCTE-35 library) in the system Python, and superkabuki and x9k3, which need
/// `threefive<2.5`, in their own virtual environment `.build/scte35-venv` (or
/// `$KERF_SCTE35_VENV`).
public enum SCTE35Tools {
    public static var virtualEnvironment: String {
        ProcessInfo.processInfo.environment["KERF_SCTE35_VENV"] ?? Fixtures.root.appendingPathComponent(".build/scte35-venv").path
    }
    public static var superkabuki: String { virtualEnvironment + "/bin/superkabuki" }
    public static var x9k3: String { virtualEnvironment + "/bin/x9k3" }

    /// What is missing to run the SCTE-35 tests (empty when all are there).
    public static var missing: [String] {
        var missing: [String] = []
        if (try? Command.run("python3", ["-c", "import threefive"]).status) != 0 { missing.append("threefive (python3)") }
        for tool in [superkabuki, x9k3] where !FileManager.default.isExecutableFile(atPath: tool) { missing.append(tool) }
        return missing
    }

    /// threefive's reading of a section (hex with 0x, or base64): its JSON (`Cue.get()`).
    public static func decode(_ section: String) throws -> [String: Any] {
        let script = "import json, sys, threefive\nc = threefive.Cue(sys.argv[1])\nc.decode()\nprint(json.dumps(c.get()))"
        let result = try Command.run("python3", ["-c", script, section])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] else {
            throw CommandError(message: "threefive cannot decode \(section): \(result.stderr)")
        }
        return object
    }

    /// A splice_insert encoded by threefive: out of network at `pts` seconds (the stream's own
    /// clock), `duration` seconds of break with auto-return; base64.
    public static func spliceInsert(eventID: Int, pts: Double, duration: Double) throws -> String {
        let script = """
            import sys, threefive
            c = threefive.Cue()
            c.command = threefive.SpliceInsert()
            for k, v in dict(splice_event_id=int(sys.argv[1]), splice_event_cancel_indicator=False, event_id_compliance_flag=True,
                             out_of_network_indicator=True, program_splice_flag=True, duration_flag=True, break_auto_return=True,
                             break_duration=float(sys.argv[3]), splice_immediate_flag=False, time_specified_flag=True,
                             pts_time=float(sys.argv[2]), unique_program_id=1, avail_num=0, avails_expected=0).items():
                setattr(c.command, k, v)
            print(c.encode())
            """
        let result = try Command.run("python3", ["-c", script, String(eventID), String(pts), String(duration)])
        guard result.status == 0 else { throw CommandError(message: "threefive cannot encode a splice_insert: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A time_signal encoded by threefive with one segmentation_descriptor (an AiringID UPID):
    /// `type` (0x34 placement opportunity start, 0x35 its end…), event `eventID`, at `pts`
    /// seconds, with `duration` seconds when given; base64.
    public static func timeSignal(type: Int, eventID: Int, pts: Double, duration: Double?) throws -> String {
        let script = """
            import sys, threefive
            c = threefive.Cue()
            c.command = threefive.TimeSignal()
            c.command.time_specified_flag = True
            c.command.pts_time = float(sys.argv[3])
            d = threefive.SegmentationDescriptor()
            duration = float(sys.argv[4]) if sys.argv[4] != "-" else None
            for k, v in dict(tag=2, identifier="CUEI", segmentation_event_id=hex(int(sys.argv[2])),
                             segmentation_event_cancel_indicator=False, segmentation_event_id_compliance_indicator=True,
                             program_segmentation_flag=True, segmentation_duration_flag=duration is not None,
                             delivery_not_restricted_flag=True, segmentation_upid_type=8, segmentation_upid_length=8,
                             segmentation_upid="0x2ca0a18a", segmentation_type_id=int(sys.argv[1]), segment_num=0,
                             segments_expected=0).items():
                setattr(d, k, v)
            if duration is not None:
                d.segmentation_duration = duration
            c.descriptors = [d]
            print(c.encode())
            """
        let result = try Command.run("python3", ["-c", script, String(type), String(eventID), String(pts), duration.map { String($0) } ?? "-"])
        guard result.status == 0 else { throw CommandError(message: "threefive cannot encode a time_signal: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a 30 s H.264/AAC MPEG-TS made by ffmpeg with keyframes at `keyframes` seconds
    /// (and nowhere else) to `path`.
    public static func makeTransportStream(_ path: String, keyframes: [Double], seconds: Int = 30) throws {
        let times = keyframes.map { String($0) }.joined(separator: ",")
        let result = try Command.run("ffmpeg", [
            "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", String(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "1000", "-sc_threshold", "0",
            "-force_key_frames", times, "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", path,
        ])
        guard result.status == 0 else { throw CommandError(message: "ffmpeg could not make \(path): \(result.stderr)") }
    }

    /// The first video packet's presentation time in seconds (ffprobe).
    public static func firstVideoTime(_ path: String) throws -> Double {
        let json = try Command.ffprobe(["-select_streams", "v:0", "-show_entries", "packet=pts_time", "-read_intervals", "%+#1", path])
        guard let packets = json["packets"] as? [[String: Any]], let text = packets.first?["pts_time"] as? String,
              let time = Double(text) else { throw CommandError(message: "ffprobe found no video packet in \(path)") }
        return time
    }

    /// An MPEG-TS of `seconds` with keyframes at `keyframes` (`makeTransportStream`), into which
    /// superkabuki puts one splice_insert (out of network, `eventID`, at `out` seconds after the
    /// first video packet, `duration` seconds with auto-return), inserted `signalledAt` seconds
    /// after that packet. Returns its path in `directory`.
    public static func splicedTransportStream(in directory: URL, keyframes: [Double], seconds: Int, eventID: Int, out: Double,
                                              duration: Double, signalledAt: Double) throws -> String {
        let plain = directory.appendingPathComponent("plain.ts").path
        try makeTransportStream(plain, keyframes: keyframes, seconds: seconds)
        let first = try firstVideoTime(plain)
        let spliced = directory.appendingPathComponent("spliced.ts").path
        try inject(plain, spliced, cues: [(first + signalledAt, try spliceInsert(eventID: eventID, pts: first + out, duration: duration))])
        return spliced
    }

    /// Copies `input` to `output` with SCTE-35 sections inserted by superkabuki: each cue is
    /// (insertion time in the stream's seconds, section in base64).
    public static func inject(_ input: String, _ output: String, cues: [(time: Double, section: String)]) throws {
        let sidecar = output + ".sidecar.txt"
        try cues.map { "\($0.time),\($0.section)\n" }.joined().write(toFile: sidecar, atomically: true, encoding: .utf8)
        let result = try Command.run(superkabuki, ["-i", input, "-o", output, "-s", sidecar])
        guard result.status == 0, FileManager.default.fileExists(atPath: output) else {
            throw CommandError(message: "superkabuki failed: \(result.stderr)")
        }
    }
}
