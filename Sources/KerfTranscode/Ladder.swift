import FoundationEssentials
import KerfCore
import Yams

/// An ABR ladder: the renditions a video is re-encoded into.
///
/// Written on the command line as `1080p:5000k,720p:3000k,480p:1200k` (each rung
/// `<height>p` or `<width>x<height>`, `:bitrate`, optionally `:maxrate`), or as a YAML/JSON file
/// listing rungs with `resolution`, `bitrate`, `maxrate`, `bufsize`, `codec`, `profile`, `preset`.
public struct Ladder: Sendable, Equatable {
    /// One rendition as asked for, before it is fitted to a source.
    public struct Rung: Sendable, Equatable {
        /// Output height in lines.
        public var height: Int
        /// Output width; `nil` to derive it from the source's display aspect ratio.
        public var width: Int?
        /// Target bitrate, bits per second.
        public var bitRate: Int
        /// VBV maximum rate; `nil` for 1.2 × `bitRate`.
        public var maxRate: Int?
        /// VBV buffer size; `nil` for 2 × `bitRate`.
        public var bufferSize: Int?
        /// "h264" or "hevc".
        public var codec: String
        /// Codec profile ("high", "main"); `nil` for the encoder's choice.
        public var profile: String?
        /// Speed preset in x264's names (ultrafast … veryslow), mapped per encoder.
        public var preset: String?

        public init(height: Int, width: Int? = nil, bitRate: Int, maxRate: Int? = nil, bufferSize: Int? = nil,
                    codec: String = "h264", profile: String? = nil, preset: String? = nil) {
            self.height = height
            self.width = width
            self.bitRate = bitRate
            self.maxRate = maxRate
            self.bufferSize = bufferSize
            self.codec = codec
            self.profile = profile
            self.preset = preset
        }

        /// How the rung was written: "720p" or "1280x720".
        public var resolutionName: String { width.map { "\($0)x\(height)" } ?? "\(height)p" }
    }

    public var rungs: [Rung]

    public init(rungs: [Rung]) { self.rungs = rungs }

    public static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
    public static let codecs = ["h264", "hevc"]

    /// Parses a command-line ladder, or loads a file when `value` names an existing file.
    public static func parse(_ value: String) throws(TranscodeError) -> Ladder {
        if FileManager.default.fileExists(atPath: value) { return try load(file: value) }
        var rungs: [Rung] = []
        for (index, item) in value.split(separator: ",").enumerated() {
            let fields = item.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimming(while: \.isWhitespace) }
            let label = "rung \(index + 1) ('\(item.trimming(while: \.isWhitespace))')"
            guard fields.count == 2 || fields.count == 3 else {
                throw TranscodeError(.invalidLadder, "--ladder \(label) must be resolution:bitrate[:maxrate]",
                                     reason: "for example 1080p:5000k,720p:3000k,480p:1200k")
            }
            var rung = Rung(height: 0, bitRate: 0)
            try parseResolution(fields[0], into: &rung, label: label)
            rung.bitRate = try parseBitRate(fields[1], label: label)
            if fields.count == 3 { rung.maxRate = try parseBitRate(fields[2], label: label) }
            try rung.check(label: label)
            rungs.append(rung)
        }
        guard !rungs.isEmpty else { throw TranscodeError(.invalidLadder, "--ladder is empty") }
        return Ladder(rungs: rungs)
    }

    /// Loads a YAML or JSON ladder file: a list of rungs, or a mapping with a `rungs` list.
    public static func load(file: String) throws(TranscodeError) -> Ladder {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TranscodeError(.invalidLadder, "cannot read the ladder file", file: file)
        }
        let node: Node?
        do { node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw TranscodeError(.invalidLadder, "not valid YAML or JSON",
                                 reason: "\(error)".split(separator: "\n").first.map(String.init) ?? "", file: file)
        }
        let list: Node.Sequence?
        if let sequence = node?.sequence { list = sequence } else { list = node?.mapping?["rungs"]?.sequence }
        guard let list, !list.isEmpty else {
            throw TranscodeError(.invalidLadder, "a ladder file lists rungs", reason: "expected a list, or a mapping with a 'rungs' list", file: file)
        }
        let known = ["resolution", "bitrate", "maxrate", "bufsize", "codec", "profile", "preset"]
        var rungs: [Rung] = []
        for (index, entry) in list.enumerated() {
            let label = "rung \(index + 1)"
            guard let mapping = entry.mapping else { throw TranscodeError(.invalidLadder, "\(label) must be a mapping", file: file) }
            var rung = Rung(height: 0, bitRate: 0)
            do {
                for (keyNode, value) in mapping {
                    let key = keyNode.string ?? "?"
                    guard known.contains(key) else {
                        throw TranscodeError(.invalidLadder, "\(label).\(key): unknown key (known: \(known.joined(separator: ", ")))")
                    }
                    let text = value.string ?? value.scalar?.string ?? ""
                    switch key {
                    case "resolution": try parseResolution(text, into: &rung, label: label)
                    case "bitrate": rung.bitRate = try parseBitRate(text, label: label)
                    case "maxrate": rung.maxRate = try parseBitRate(text, label: label)
                    case "bufsize": rung.bufferSize = try parseBitRate(text, label: label)
                    case "codec": rung.codec = text
                    case "profile": rung.profile = text
                    default: rung.preset = text
                    }
                }
                try rung.check(label: label)
            } catch let error as TranscodeError {
                throw TranscodeError(error.code, error.message, reason: error.reason, file: file)
            } catch {
                throw TranscodeError(.invalidLadder, "\(error)", file: file)
            }
            rungs.append(rung)
        }
        return Ladder(rungs: rungs)
    }

    private static func parseResolution(_ text: String, into rung: inout Rung, label: String) throws(TranscodeError) {
        let lower = text.lowercased()
        if lower.hasSuffix("p"), let height = Int(lower.dropLast()) {
            rung.height = height
            rung.width = nil
        } else {
            let parts = lower.split(separator: "x")
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else {
                throw TranscodeError(.invalidLadder, "\(label): resolution '\(text)' must be <height>p or <width>x<height>")
            }
            rung.width = width
            rung.height = height
        }
    }

    /// "5000k", "5M", "5000000" → bits per second.
    static func parseBitRate(_ text: String, label: String) throws(TranscodeError) -> Int {
        let lower = text.lowercased()
        var multiplier = 1.0
        var digits = Substring(lower)
        if lower.hasSuffix("k") { multiplier = 1000; digits = lower.dropLast() }
        else if lower.hasSuffix("m") { multiplier = 1_000_000; digits = lower.dropLast() }
        guard let value = Double(digits), value.isFinite, value > 0 else {
            throw TranscodeError(.invalidLadder, "\(label): bitrate '\(text)' must be a number of bits per second (5000k, 5M)")
        }
        return Int((value * multiplier).rounded())
    }

    // MARK: fitting to a source

    /// A rung fitted to a source: exact even dimensions and rate-control values.
    public struct ResolvedRung: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var bitRate: Int
        public var maxRate: Int
        public var bufferSize: Int
        public var codec: String
        public var profile: String?
        public var preset: String
        /// Folder-friendly name ("720p").
        public var name: String { "\(height)p" }
    }

    /// The rungs fitted to a source picture: never taller or wider than the source (such rungs
    /// are dropped and reported in `skipped`), display aspect ratio kept with square pixels,
    /// even dimensions, duplicates removed, highest first.
    /// - Parameters:
    ///   - width, height: the source's coded size; `sampleAspectRatio` its pixel shape.
    public func resolved(sourceWidth: Int, sourceHeight: Int, sampleAspectRatio: Rational? = nil,
                         defaultPreset: String = "veryfast") -> (rungs: [ResolvedRung], skipped: [String]) {
        let sar = sampleAspectRatio.flatMap { $0.numerator > 0 && $0.denominator > 0 ? $0 : nil } ?? Rational(1, 1)
        let displayWidth = Double(sourceWidth) * sar.doubleValue
        var result: [ResolvedRung] = []
        var skipped: [String] = []
        for rung in rungs {
            let height = Self.even(Double(rung.height))
            let width = rung.width.map { Self.even(Double($0)) }
                ?? Self.even(Double(height) * displayWidth / Double(max(sourceHeight, 1)))
            if height > Self.even(Double(sourceHeight)) || Double(width) > displayWidth + 1 {
                skipped.append("\(rung.resolutionName): larger than the \(sourceWidth)x\(sourceHeight) source (never upscaled)")
                continue
            }
            let resolved = ResolvedRung(width: width, height: height, bitRate: rung.bitRate,
                                        maxRate: rung.maxRate ?? rung.bitRate * 6 / 5,
                                        bufferSize: rung.bufferSize ?? rung.bitRate * 2,
                                        codec: rung.codec, profile: rung.profile, preset: rung.preset ?? defaultPreset)
            if result.contains(where: { $0.width == width && $0.height == height && $0.bitRate == rung.bitRate }) { continue }
            result.append(resolved)
        }
        if result.isEmpty, let smallest = rungs.min(by: { $0.height < $1.height }) {
            // Every rung is larger than the source: one rendition at the source's size.
            let height = Self.even(Double(sourceHeight))
            result.append(ResolvedRung(width: Self.even(displayWidth), height: height, bitRate: smallest.bitRate,
                                       maxRate: smallest.maxRate ?? smallest.bitRate * 6 / 5,
                                       bufferSize: smallest.bufferSize ?? smallest.bitRate * 2,
                                       codec: smallest.codec, profile: smallest.profile,
                                       preset: smallest.preset ?? defaultPreset))
        }
        result.sort { ($0.height, $0.bitRate) > ($1.height, $1.bitRate) }
        return (result, skipped)
    }

    static func even(_ value: Double) -> Int { max(2, Int((value / 2).rounded()) * 2) }

    // MARK: default ladder

    /// Heights and bitrates after Apple's HLS Authoring Specification table (16:9 H.264).
    static let authoringTable: [(height: Int, bitRate: Int)] = [
        (1080, 6_000_000), (720, 3_000_000), (540, 2_000_000), (360, 730_000), (234, 145_000),
    ]

    /// The ladder used when none is given: the table's rungs at or below the source's height,
    /// topped by one at the source's own height when it falls between table rows (bitrate
    /// scaled by pixel count), at most four rungs.
    public static func defaultLadder(sourceWidth: Int, sourceHeight: Int) -> Ladder {
        let height = sourceHeight
        var rungs = authoringTable.filter { $0.height <= height }.map { Rung(height: $0.height, bitRate: $0.bitRate) }
        if let top = rungs.first, Double(height) > Double(top.height) * 1.1 {
            let scale = Double(height * height) / Double(top.height * top.height)
            let rate = min(Double(top.bitRate) * scale, Double(authoringTable[0].bitRate) * 2)
            rungs.insert(Rung(height: height, bitRate: Int(rate / 1000) * 1000), at: 0)
        } else if rungs.isEmpty {
            let scale = Double(height * height) / Double(234 * 234)
            rungs = [Rung(height: height, bitRate: max(64_000, Int(145_000 * scale / 1000) * 1000))]
        }
        return Ladder(rungs: Array(rungs.prefix(4)))
    }
}

extension Ladder.Rung {
    func check(label: String) throws(TranscodeError) {
        guard height >= 16, height <= 4320, (width ?? 16) >= 16, (width ?? 0) <= 7680 else {
            throw TranscodeError(.invalidLadder, "\(label): resolution \(resolutionName) is out of range (16…7680 × 16…4320)")
        }
        guard bitRate >= 16_000, bitRate <= 200_000_000 else {
            throw TranscodeError(.invalidLadder, "\(label): bitrate \(bitRate) bit/s is out of range (16k…200M)")
        }
        if let maxRate, maxRate < bitRate {
            throw TranscodeError(.invalidLadder, "\(label): maxrate must be at least the bitrate")
        }
        guard Ladder.codecs.contains(codec) else {
            throw TranscodeError(.invalidLadder, "\(label): codec '\(codec)' (known: \(Ladder.codecs.joined(separator: ", ")))")
        }
        if let preset, !Ladder.presets.contains(preset) {
            throw TranscodeError(.invalidLadder, "\(label): preset '\(preset)' (known: \(Ladder.presets.joined(separator: ", ")))")
        }
    }
}
