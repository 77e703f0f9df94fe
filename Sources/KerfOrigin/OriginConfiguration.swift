import KerfRTMP
import FoundationEssentials
import KerfCore
import KerfLive
import KerfManifest
import KerfPackager
import KerfTranscode
import Yams

/// `kerf serve`'s configuration (kerf.yaml). Every key has a default, so an empty file, or none,
/// serves `out/` on 127.0.0.1:8080.
public struct OriginConfiguration: Sendable, Equatable {
    /// Folder whose package directories are served under `/vod/`.
    public var root = "out"
    /// `host:port` to listen on.
    public var listen = "127.0.0.1:8080"
    /// `Cache-Control: max-age` of VOD playlists and MPDs, in seconds.
    public var vodManifestMaxAge = 3600
    /// Answer with `Access-Control-Allow-Origin: *` and preflight requests.
    public var cors = true
    /// Compress playlists and MPDs with gzip for clients that accept it.
    public var gzip = true
    /// Longest request target accepted, in bytes (longer: 414).
    public var maxURLLength = 4096
    /// Seconds a connection may stay idle (slow or stalled clients are closed).
    public var idleTimeout = 30
    /// Seconds a request head may take from its first byte to its end (slowloris clients that
    /// trickle header lines are closed).
    public var headerTimeout = 10
    /// Largest request head (all header lines), in bytes (larger: 400 and the connection closes).
    public var maxHeaderSize = 16_384
    /// `host:port` of the RTMP ingest (push channels); default: the HTTP host, port 1935.
    public var rtmpListen: String?
    /// RTMP connections served at once.
    public var rtmpMaxPublishers = 64
    /// Bits per second an RTMP publisher may send (over 10 s).
    public var rtmpMaxBitRate = 50_000_000
    /// MiB of recently served VOD files kept in memory (0: none).
    public var fileCacheMiB = 64
    /// Connections served at once; a connection beyond it is answered 503 and closed.
    public var maxConnections = 4096
    /// Connections each listening socket's queue holds before they are accepted (`listen`'s
    /// backlog; the kernel caps it at `net.core.somaxconn`).
    public var listenBacklog = 4096
    /// When set, playback requires URLs signed with this secret (`SignedURL`).
    public var tokenSecret: String?
    /// When set, the status page and `/metrics` require `Authorization: Bearer <admin-token>`.
    public var adminToken: String?
    /// HTTPS and HTTP/2 (`tls:`), when set.
    public var tls: TLS?
    /// Live channels by name (`channels:`).
    public var channels: [String: Channel] = [:]

    /// What a live channel publishes: HLS and DASH over CMAF, HLS over MPEG-TS.
    public typealias Format = PackageOptions.Format

    /// One live channel (`channels:` entries).
    public typealias Channel = ChannelConfiguration

    public init() {}

    static let keys: Set<String> = ["root", "listen", "vod-manifest-max-age", "cors", "gzip", "max-url-length", "idle-timeout", "channels",
                                    "header-timeout", "max-header-size", "max-connections", "listen-backlog", "file-cache",
                                    "rtmp-listen", "rtmp-max-publishers", "rtmp-max-bitrate",
                                    "token-secret", "admin-token", "tls"]
    static let channelKeys: Set<String> = ["input", "segment-duration", "window", "key", "ladder", "formats", "archive", "part-duration", "epoch",
                                           "encryption", "timeline", "dash-timeline", "ad-markers", "dash-events", "ad-periods", "captions"]

    /// Reads a YAML configuration file.
    /// - Throws: `OriginError` when the file cannot be read or its content is refused.
    public static func load(file: String) throws -> OriginConfiguration {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw OriginError(.configuration, "cannot read the configuration", reason: "no such file or not readable", file: file)
        }
        return try load(yaml: String(decoding: data, as: UTF8.self), file: file)
    }

    /// Reads a YAML configuration.
    /// - Throws: `OriginError` naming the file and the key that is unknown or has a bad value.
    public static func load(yaml text: String, file: String) throws -> OriginConfiguration {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw OriginError(.configuration, "not valid YAML", reason: "\(error)".split(separator: "\n").first.map(String.init) ?? "", file: file)
        }
        var configuration = OriginConfiguration()
        guard let node else { return configuration }
        guard let mapping = node.mapping else { throw OriginError(.configuration, "the configuration must be a mapping of keys", file: file) }
        func fail(_ key: String, _ why: String) -> OriginError { OriginError(.configuration, "\(key): \(why)", file: file) }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail("\(keyNode)", "keys must be strings") }
            guard keys.contains(key) else { throw fail(key, "unknown key (known: \(keys.sorted().joined(separator: ", ")))") }
            switch key {
            case "root": configuration.root = try string(value, key, fail)
            case "listen": configuration.listen = try string(value, key, fail)
            case "vod-manifest-max-age": configuration.vodManifestMaxAge = try integer(value, key, 0...31_536_000, fail)
            case "cors": configuration.cors = try boolean(value, key, fail)
            case "gzip": configuration.gzip = try boolean(value, key, fail)
            case "max-url-length": configuration.maxURLLength = try integer(value, key, 64...65_536, fail)
            case "idle-timeout": configuration.idleTimeout = try integer(value, key, 1...3600, fail)
            case "header-timeout": configuration.headerTimeout = try integer(value, key, 1...3600, fail)
            case "max-header-size": configuration.maxHeaderSize = try integer(value, key, 1024...1_048_576, fail)
            case "rtmp-listen": configuration.rtmpListen = try string(value, key, fail)
            case "rtmp-max-publishers": configuration.rtmpMaxPublishers = try integer(value, key, 1...100_000, fail)
            case "rtmp-max-bitrate": configuration.rtmpMaxBitRate = try integer(value, key, 100_000...10_000_000_000, fail)
            case "file-cache": configuration.fileCacheMiB = try integer(value, key, 0...65_536, fail)
            case "max-connections": configuration.maxConnections = try integer(value, key, 1...1_000_000, fail)
            case "listen-backlog": configuration.listenBacklog = try integer(value, key, 1...65_535, fail)
            case "token-secret", "admin-token":
                let secret = try string(value, key, fail)
                guard secret.utf8.count >= 16 else { throw fail(key, "must be at least 16 characters") }
                if key == "token-secret" { configuration.tokenSecret = secret } else { configuration.adminToken = secret }
            case "tls": configuration.tls = try tls(value, key, fail)
            case "channels":
                guard let channels = value.mapping else { throw fail(key, "must map channel names to their settings") }
                for (nameNode, settings) in channels {
                    guard let name = nameNode.string, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                        throw fail("channels", "channel names use letters, digits, - and _")
                    }
                    guard let settings = settings.mapping else { throw fail("channels.\(name)", "must be a mapping") }
                    var input: String?
                    var channel = Channel(input: "")
                    for (settingNode, setting) in settings {
                        let settingKey = "channels.\(name).\(settingNode.string ?? "?")"
                        switch settingNode.string {
                        case "input": input = try string(setting, settingKey, fail)
                        case "segment-duration": channel.segmentDuration = try number(setting, settingKey, 0.1...60, fail)
                        case "window": channel.window = try number(setting, settingKey, 1...86_400, fail)
                        case "ladder":
                            do { channel.ladder = try Ladder.parse(try string(setting, settingKey, fail)) } catch let error as TranscodeError {
                                throw fail(settingKey, error.reason.isEmpty ? error.message : "\(error.message): \(error.reason)")
                            }
                        case "archive": channel.archive = try string(setting, settingKey, fail)
                        case "epoch":
                            if let seconds = setting.float ?? setting.int.map(Double.init), seconds >= 0 {
                                channel.epoch = seconds
                            } else if let text = setting.string, let seconds = UTCTime.parseXSDateTime(text) {
                                channel.epoch = seconds
                            } else {
                                throw fail(settingKey, "must be Unix seconds or a UTC date-time (2026-01-01T00:00:00Z)")
                            }
                        case "part-duration": channel.partDuration = try number(setting, settingKey, 0.1...2, fail)
                        case "key":
                            let key = try string(setting, settingKey, fail)
                            guard key.utf8.count >= 8, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "&") }) else {
                                throw fail(settingKey, "must be at least 8 printable characters, without spaces or &")
                            }
                            channel.key = key
                        case "formats":
                            let names = try setting.sequence.map { $0.compactMap(\.string) }
                                ?? string(setting, settingKey, fail).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                            let formats = names.compactMap(Format.init(rawValue:))
                            guard !names.isEmpty, formats.count == names.count else {
                                throw fail(settingKey, "lists hls, dash and hls-ts (\(names.joined(separator: ",")) given)")
                            }
                            channel.formats = Set(formats)
                        case "encryption": channel.encryption = try encryption(setting, settingKey, fail)
                        case "timeline":
                            let value = try string(setting, settingKey, fail)
                            guard let timeline = ChannelConfiguration.Timeline(rawValue: value) else {
                                throw fail(settingKey, "is channel-start or unix (\(value) given)")
                            }
                            channel.timeline = timeline
                        case "dash-timeline":
                            let value = try string(setting, settingKey, fail)
                            guard let timeline = ChannelConfiguration.DASHTimeline(rawValue: value) else {
                                throw fail(settingKey, "is period or window (\(value) given)")
                            }
                            channel.dashTimeline = timeline
                        case "ad-markers":
                            channel.adMarkers = try names(setting, settingKey, fail)
                        case "dash-events":
                            channel.dashEvents = try names(setting, settingKey, fail)
                        case "ad-periods":
                            channel.adPeriods = try boolean(setting, settingKey, fail)
                        case "captions":
                            do { channel.captions = try StreamSelection.captionLabels(try string(setting, settingKey, fail)) } catch let error as PackagerError {
                                throw fail(settingKey, "\(error.message): \(error.reason)")
                            }
                        case let other? where channelKeys.contains(other): channel.pendingKeys.append(other)
                        default: throw fail(settingKey, "unknown key (known: \(channelKeys.sorted().joined(separator: ", ")))")
                        }
                    }
                    guard let input else { throw fail("channels.\(name).input", "is required") }
                    if let part = channel.partDuration, part * 2 > channel.segmentDuration {
                        throw fail("channels.\(name).part-duration", "must be at most half the segment duration")
                    }
                    if input == "rtmp" && channel.key == nil {
                        throw fail("channels.\(name).key", "is required for a push channel (input: rtmp)")
                    }
                    if input != "rtmp" && channel.key != nil {
                        throw fail("channels.\(name).key", "is for push channels only (input: rtmp)")
                    }
                    // A live playlist must hold at least three target durations (RFC 8216bis §6.2.2).
                    if channel.window < 3 * channel.segmentDuration.rounded(.up) {
                        throw fail("channels.\(name).window", "must be at least 3 segment durations (\(Int(3 * channel.segmentDuration.rounded(.up))) s)")
                    }
                    if let encryption = channel.encryption {
                        let target = channel.targetDuration
                        channel.encryption?.rotation?.segmentDuration = target
                        try check(encryption, of: channel, "channels.\(name).encryption", fail)
                    }
                    channel.input = input
                    configuration.channels[name] = channel
                }
            default: break
            }
        }
        return configuration
    }

    /// The host and port of `listen`.
    public func listenAddress() throws -> (host: String, port: Int) {
        try Self.address(listen, key: "listen")
    }

    /// The host and port of the RTMP ingest (`rtmp-listen`, else `listen`'s host and 1935).
    public func rtmpAddress() throws -> (host: String, port: Int) {
        if let rtmpListen { return try Self.address(rtmpListen, key: "rtmp-listen") }
        return (try listenAddress().host, 1935)
    }

    static func address(_ text: String, key: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw OriginError(.address, "\(text) is not host:port", file: key)
        }
        let host = String(text[..<colon]).trimming(while: { $0 == "[" || $0 == "]" })
        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }

    static func string(_ node: Node, _ key: String, _ fail: (String, String) -> OriginError) throws -> String {
        guard let value = node.scalar?.string, !value.isEmpty else { throw fail(key, "must be a non-empty string") }
        return value
    }

    private static func integer(_ node: Node, _ key: String, _ range: ClosedRange<Int>, _ fail: (String, String) -> OriginError) throws -> Int {
        guard let value = node.int, range.contains(value) else { throw fail(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
        return value
    }

    private static func number(_ node: Node, _ key: String, _ range: ClosedRange<Double>, _ fail: (String, String) -> OriginError) throws -> Double {
        guard let value = node.float ?? node.int.map(Double.init), range.contains(value) else {
            throw fail(key, "must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A `NamedOptions` list: a YAML sequence of names or one comma-separated string.
    private static func names<T: NamedOptions>(_ node: Node, _ key: String, _ fail: (String, String) -> OriginError) throws -> T {
        let list = try node.sequence.map { $0.compactMap(\.string) } ?? string(node, key, fail).split(separator: ",").map(String.init)
        switch T.parse(list) {
        case .success(let options): return options
        case .failure(let unknown): throw fail(key, "lists \(T.nameList) (\(unknown.name) given)")
        case nil: throw fail(key, "lists \(T.nameList) (none given)")
        }
    }

    static func boolean(_ node: Node, _ key: String, _ fail: (String, String) -> OriginError) throws -> Bool {
        guard let value = node.bool else { throw fail(key, "must be true or false") }
        return value
    }
}
