import KerfCore
import KerfCrypto

/// A DRM system a protected package is signalled for (`--drm`): its system ID, and how its
/// signalling is made from raw keys when no CPIX document or `--pssh` gives it.
public enum DRMSystem: String, Sendable, CaseIterable {
    /// The W3C common system (ISO/IEC 23001-7 §8.1.3): a version 1 `pssh` listing the key IDs.
    case common
    /// W3C Clear Key: the keys are published (HLS KEYFORMAT "identity", key files).
    case clearkey
    case widevine
    case playready
    case fairplay

    /// The system ID as a lowercase UUID.
    public var systemID: String {
        switch self {
        case .common: ContentProtection.System.commonID
        case .clearkey: ContentProtection.System.clearKeyID
        case .widevine: ContentProtection.System.widevineID
        case .playready: ContentProtection.System.playReadyID
        case .fairplay: ContentProtection.System.fairPlayID
        }
    }

    /// What `--drm` gives without the option: the common system and Clear Key.
    public static let defaults: [DRMSystem] = [.common, .clearkey]

    /// Parses `--drm widevine,playready,…` (names case-insensitive, in the order given).
    /// - Throws: `.invalidOptions` naming an unknown system.
    public static func list(_ text: String) throws(PackagerError) -> [DRMSystem] {
        var systems: [DRMSystem] = []
        for name in text.split(separator: ",") {
            let trimmed = name.trimming(while: \.isWhitespace).lowercased()
            guard let system = DRMSystem(rawValue: trimmed) else {
                throw PackagerError(.invalidOptions, "--drm: unknown DRM system \"\(trimmed)\"",
                                    reason: "known: " + allCases.map(\.rawValue).joined(separator: ", "))
            }
            if !systems.contains(system) { systems.append(system) }
        }
        guard !systems.isEmpty else { throw PackagerError(.invalidOptions, "--drm names no DRM system") }
        return systems
    }
}
