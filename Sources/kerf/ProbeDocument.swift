import KerfCore
import KerfMedia

/// The stable JSON form of a `ProbeReport` (`kerf probe --json`). Field names are part of
/// Kerf's interface: add fields, never rename them. Unknown values are omitted. Times are in
/// seconds; rates in bits per second; ratios as "num/den" strings with a numeric twin.
struct ProbeDocument: Codable {
    struct Container: Codable {
        var format: String
        var formatLongName: String?
        var duration: Double?
        var startTime: Double?
        var bitRate: Int?
        var size: Int64?
    }

    struct GOP: Codable {
        var keyframes: Int
        var minInterval: Double?
        var meanInterval: Double?
        var maxInterval: Double?
        var regular: Bool
    }

    struct Stream: Codable {
        var index: Int
        var type: String
        var codec: String
        var codecString: String?
        var codecTag: String?
        var profile: String?
        var level: Int?
        var width: Int?
        var height: Int?
        var frameRate: String?
        var frameRateValue: Double?
        var sampleAspectRatio: String?
        var pixelFormat: String?
        var fieldOrder: String?
        var sampleRate: Int?
        var channels: Int?
        var channelLayout: String?
        var language: String?
        var bitRate: Int?
        var startTime: Double?
        var duration: Double?
        var packets: Int
        var gop: GOP?
        /// Closed captions in the video's SEI: "CC1"…"CC4" (CEA-608), "SERVICE1"… (CEA-708).
        var closedCaptions: [String]?
    }

    struct Finding: Codable {
        var stream: Int?
        var code: String
        var blocking: Bool
        var message: String
    }

    struct StreamCopy: Codable {
        var possible: Bool
        var targetSegmentDuration: Double
        var findings: [Finding]
    }

    var input: String
    var container: Container
    var streams: [Stream]
    var streamCopy: StreamCopy

    init(_ report: ProbeReport) {
        input = report.url
        let c = report.container
        container = Container(format: c.formatName, formatLongName: c.formatLongName, duration: c.duration?.seconds,
                              startTime: c.startTime?.seconds, bitRate: c.bitRate, size: c.size)
        streams = report.tracks.map { track in
            let gop = report.gops[track.index].map {
                GOP(keyframes: $0.keyframeCount, minInterval: $0.minInterval, meanInterval: $0.meanInterval,
                    maxInterval: $0.maxInterval, regular: $0.isRegular)
            }
            return Stream(
                index: track.index, type: track.mediaType.rawValue, codec: track.codec,
                codecString: track.codecString, codecTag: track.codecTag, profile: track.profile,
                level: track.mediaType == .video ? track.level : nil,
                width: track.width, height: track.height,
                frameRate: track.frameRate.map { "\($0.numerator)/\($0.denominator)" },
                frameRateValue: track.frameRate?.doubleValue,
                sampleAspectRatio: track.sampleAspectRatio.map { "\($0.numerator):\($0.denominator)" },
                pixelFormat: track.pixelFormat, fieldOrder: track.fieldOrder?.rawValue,
                sampleRate: track.sampleRate, channels: track.channels, channelLayout: track.channelLayout,
                language: track.language, bitRate: track.bitRate, startTime: track.startTime?.seconds,
                duration: track.duration?.seconds, packets: report.packetCounts[track.index] ?? 0, gop: gop,
                closedCaptions: report.captions[track.index]?.instreamIDs)
        }
        streamCopy = StreamCopy(
            possible: report.verdict.canStreamCopy, targetSegmentDuration: report.targetSegmentDuration,
            findings: report.verdict.findings.map {
                Finding(stream: $0.track, code: $0.code.rawValue, blocking: $0.blocking, message: $0.message)
            })
    }
}
