import FoundationEssentials
import KerfCrypto

/// A Protection System Specific Header box (`pssh`, ISO/IEC 23001-7 §8.1), read from an init
/// segment or from a DASH `cenc:pssh` element, for checking.
struct PSSHBox: Equatable {
    struct Malformed: Error, Equatable {
        var reason: String
    }

    var version: UInt8
    var systemID: [UInt8]
    var keyIDs: [[UInt8]]
    var dataSize: Int

    /// The system ID as a lowercase UUID.
    var system: String { Hex.uuid(systemID) }

    /// DRM systems whose IDs the validator knows, by lowercase UUID (DASH-IF's registry).
    static let knownSystems: [String: String] = [
        "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b": "Common (W3C)",
        "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed": "Widevine",
        "9a04f079-9840-4286-ab92-e65be0885f95": "PlayReady",
        "94ce86fb-07ff-4f43-adb8-93d2fa968ca2": "FairPlay",
        "e2719d58-a985-b3c9-781a-b030af78d30e": "ClearKey (DASH-IF)",
    ]

    /// Parses one whole box (header included): its size must be the byte count, its version 0
    /// or 1, its key IDs and data must fill it exactly.
    static func parse(_ bytes: [UInt8]) throws(Malformed) -> PSSHBox {
        guard bytes.count >= 8 else { throw Malformed(reason: "\(bytes.count) bytes is too short for a box") }
        let size = Int(ISOBoxes.read32(bytes, 0))
        guard size == bytes.count else { throw Malformed(reason: "its size field says \(size) bytes, it has \(bytes.count)") }
        let type = ISOBoxes.fourCC(bytes, 4)
        guard type == "pssh" else { throw Malformed(reason: "it is a '\(type)' box, not 'pssh'") }
        guard bytes.count >= 8 + 4 + 16 + 4 else { throw Malformed(reason: "\(bytes.count) bytes is too short for a pssh box") }
        let version = bytes[8]
        guard version <= 1 else { throw Malformed(reason: "version \(version), not 0 or 1") }
        var offset = 12
        let systemID = Array(bytes[offset..<(offset + 16)])
        offset += 16
        var keyIDs: [[UInt8]] = []
        if version == 1 {
            let count = Int(ISOBoxes.read32(bytes, offset))
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
        let dataSize = Int(ISOBoxes.read32(bytes, offset))
        offset += 4
        guard dataSize == bytes.count - offset else {
            throw Malformed(reason: "DataSize \(dataSize) does not match the \(bytes.count - offset) bytes left")
        }
        return PSSHBox(version: version, systemID: systemID, keyIDs: keyIDs, dataSize: dataSize)
    }

    /// Parses the base64 text of a `cenc:pssh` element (white space ignored).
    static func parse(base64 text: String) throws(Malformed) -> PSSHBox {
        let compact = text.filter { !$0.isWhitespace }
        guard !compact.isEmpty, let data = Data(base64Encoded: compact) else { throw Malformed(reason: "it is not base64") }
        return try parse(Array(data))
    }
}
