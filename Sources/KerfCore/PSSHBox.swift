/// A Protection System Specific Header box (`pssh`, ISO/IEC 23001-7 §8.1): what the packager
/// checks in boxes it is given (`--pssh`, CPIX) and what the validator checks in init segments
/// and `cenc:pssh` elements.
public struct PSSHBox: Sendable, Equatable {
    public struct Malformed: Error, Equatable {
        public var reason: String
    }

    public var version: UInt8
    public var systemID: [UInt8]
    public var keyIDs: [[UInt8]]
    /// The system-specific data (a PlayReady Header Object for PlayReady).
    public var data: [UInt8]

    public var dataSize: Int { data.count }

    /// The system ID as a lowercase UUID.
    public var system: String { Hex.uuid(systemID) }

    /// DRM systems whose IDs are known, by lowercase UUID (DASH-IF's registry).
    public static let knownSystems: [String: String] = [
        ContentProtection.System.commonID: "Common (W3C)",
        ContentProtection.System.widevineID: "Widevine",
        ContentProtection.System.playReadyID: "PlayReady",
        ContentProtection.System.fairPlayID: "FairPlay",
        ContentProtection.System.clearKeyID: "ClearKey (DASH-IF)",
    ]

    /// Parses one whole box (header included): its size must be the byte count, its version 0
    /// or 1, its key IDs and data must fill it exactly.
    public static func parse(_ bytes: [UInt8]) throws(Malformed) -> PSSHBox {
        func read32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        guard bytes.count >= 8 else { throw Malformed(reason: "\(bytes.count) bytes is too short for a box") }
        let size = read32(0)
        guard size == bytes.count else { throw Malformed(reason: "its size field says \(size) bytes, it has \(bytes.count)") }
        let type = String(decoding: bytes[4..<8], as: UTF8.self)
        guard type == "pssh" else { throw Malformed(reason: "it is a '\(type)' box, not 'pssh'") }
        guard bytes.count >= 8 + 4 + 16 + 4 else { throw Malformed(reason: "\(bytes.count) bytes is too short for a pssh box") }
        let version = bytes[8]
        guard version <= 1 else { throw Malformed(reason: "version \(version), not 0 or 1") }
        var offset = 12
        let systemID = Array(bytes[offset..<(offset + 16)])
        offset += 16
        var keyIDs: [[UInt8]] = []
        if version == 1 {
            let count = read32(offset)
            offset += 4
            guard count <= (bytes.count - offset) / 16 else {
                throw Malformed(reason: "KID_count \(count) does not fit in the box")
            }
            for _ in 0..<count {
                keyIDs.append(Array(bytes[offset..<(offset + 16)]))
                offset += 16
            }
        }
        guard offset + 4 <= bytes.count else { throw Malformed(reason: "the box ends before DataSize") }
        let dataSize = read32(offset)
        offset += 4
        guard dataSize == bytes.count - offset else {
            throw Malformed(reason: "DataSize \(dataSize) does not match the \(bytes.count - offset) bytes left")
        }
        return PSSHBox(version: version, systemID: systemID, keyIDs: keyIDs, data: Array(bytes[offset...]))
    }

    /// Parses the base64 text of a `cenc:pssh` element (white space ignored).
    public static func parse(base64 text: String) throws(Malformed) -> PSSHBox {
        guard let bytes = Base64.decode(text), !bytes.isEmpty else { throw Malformed(reason: "it is not base64") }
        return try parse(bytes)
    }
}
