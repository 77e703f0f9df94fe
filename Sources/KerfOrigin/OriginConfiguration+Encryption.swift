import KerfCore
import KerfCrypto
import KerfLive
import KerfPackager
import Yams

/// A channel's `encryption:` settings: Common Encryption of its CMAF renditions, read with the
/// same rules as `kerf package --encrypt cenc|cbcs`.
extension OriginConfiguration {
    static let encryptionKeys: Set<String> = ["scheme", "key", "keys", "cpix", "drm", "pssh", "license-url", "iv", "key-uri", "pssh-in-init",
                                              "rotation", "root-key"]

    /// Reads an `encryption:` mapping.
    /// - Throws: `OriginError` naming the setting that is unknown or wrong (never a key's value).
    static func encryption(_ node: Node, _ key: String, _ fail: (String, String) -> OriginError) throws -> CommonEncryption {
        guard let mapping = node.mapping else { throw fail(key, "must be a mapping (scheme, key or keys or cpix, drm, …)") }
        func strings(_ value: Node, _ name: String) throws -> [String] {
            if let list = value.sequence { return try list.map { try string($0, name, fail) } }
            return try string(value, name, fail).split(separator: ",").map { $0.trimming(while: \.isWhitespace) }
        }
        var settings: [String: Node] = [:]
        for (nameNode, value) in mapping {
            guard let name = nameNode.string, encryptionKeys.contains(name) else {
                throw fail("\(key).\(nameNode.string ?? "?")", "unknown key (known: \(encryptionKeys.sorted().joined(separator: ", ")))")
            }
            settings[name] = value
        }
        guard let schemeNode = settings["scheme"], let scheme = ProtectionScheme(rawValue: try string(schemeNode, "\(key).scheme", fail)) else {
            throw fail("\(key).scheme", "is required: cenc or cbcs")
        }
        var common = CommonEncryption(scheme: scheme)
        do {
            if let value = settings["key"] { try common.addKey(try string(value, "\(key).key", fail), option: "\(key).key") }
            let keys = try settings["keys"].map { try strings($0, "\(key).keys") } ?? []
            for (index, value) in keys.enumerated() { try common.addKey(value, option: "\(key).keys[\(index)]") }
            if let value = settings["iv"] { try common.setIV(try string(value, "\(key).iv", fail), option: "\(key).iv") }
            if let value = settings["key-uri"] { common.keyURI = try string(value, "\(key).key-uri", fail) }
            if let value = settings["pssh-in-init"] { common.psshInInit = try boolean(value, "\(key).pssh-in-init", fail) }
            if let value = settings["drm"] { common.drmSystems = try DRMSystem.list(try strings(value, "\(key).drm").joined(separator: ",")) }
            if let value = settings["pssh"] { try common.setPSSH(try string(value, "\(key).pssh", fail), option: "\(key).pssh") }
            for url in try settings["license-url"].map({ try strings($0, "\(key).license-url") }) ?? [] {
                try common.addLicenseURL(url, option: "\(key).license-url")
            }
            switch (settings["rotation"], settings["root-key"]) {
            case (let rotation?, let root?):
                guard let periods = rotation.int, periods >= 1, periods <= 100_000 else {
                    throw fail("\(key).rotation", "must be a whole number of segments from 1 to 100000")
                }
                guard let rootKey = try? AES128Key(hex: try string(root, "\(key).root-key", fail)) else {
                    throw fail("\(key).root-key", "must be 32 hex digits")
                }
                // The segment duration is the channel's, set once the channel is read.
                common.rotation = KeyRotation(rootKey: rootKey, segmentsPerPeriod: periods, segmentDuration: MediaTime(value: 6, timescale: 1))
            case (nil, nil): break
            default: throw fail(key, "rotation and root-key go together (the period keys are derived from the root key)")
            }
            if let value = settings["cpix"] {
                try common.loadCPIX(path: try string(value, "\(key).cpix", fail), systemsNamed: settings["drm"] != nil)
            }
            try common.validate()
        } catch let error as PackagerError {
            throw fail(key, error.reason.isEmpty ? error.message : "\(error.message): \(error.reason)")
        }
        return common
    }

    /// What a channel's formats need of its encryption: MPEG-TS variants cannot be encrypted
    /// yet (they would publish the clear media), and HLS players need a key they can reach.
    static func check(_ encryption: CommonEncryption, of channel: ChannelConfiguration, _ key: String,
                      _ fail: (String, String) -> OriginError) throws {
        if channel.formats.contains(.hlsTS) {
            throw fail(key, "MPEG-TS variants (formats: hls-ts) of a live channel cannot be encrypted yet")
        }
        if channel.timeline == .channelStart && channel.archive == nil && channel.epoch == nil {
            // IVs come from decode times and rotated keys from channel time: a restart would
            // begin the timeline again and repeat them.
            throw fail(key, "needs an archive: or an epoch: with timeline: channel-start (a restart would repeat IVs and keys)")
        }
        if encryption.rotation != nil && channel.partDuration != nil {
            // A key period starting inside a segment's parts would reach LL-HLS players only
            // with the segment's completion.
            throw fail(key, "key rotation cannot be combined with part-duration (LL-HLS) yet")
        }
        if encryption.rotation != nil, let uri = encryption.keyURI, !uri.contains("{kid}") {
            throw fail(key, "key-uri must hold {kid} under key rotation: each period's key has its own URI")
        }
        // HLS players need a key they can reach: a key URI, or a DRM system signalled in HLS
        // (from --drm or the CPIX document) for every key.
        guard channel.formats.contains(.hls), encryption.keyURI == nil else { return }
        for contentKey in encryption.rotation.map({ [$0.key(period: 0)] }) ?? encryption.keys {
            guard try encryption.protection(for: contentKey).systems.contains(where: { $0.hls != nil }) else {
                throw fail(key, "HLS players get no key: set key-uri (a live origin publishes no key files) or drm widevine, playready or fairplay")
            }
        }
    }
}
