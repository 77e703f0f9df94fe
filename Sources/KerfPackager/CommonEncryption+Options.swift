import FoundationEssentials
import KerfCore
import KerfCrypto

/// Common Encryption settings read from text, the same for `kerf package` options and a live
/// channel's `encryption:` settings. Errors name the setting (`option`) and what is wrong with
/// it, never a key.
extension CommonEncryption {
    /// Takes a `[video=|audio=]<kid>:<key>` key.
    /// - Parameter option: how errors name the setting ("--key number 2", "encryption.keys[1]").
    public mutating func addKey(_ value: String, option: String) throws(PackagerError) {
        var text = Substring(value)
        var label: Substring?
        if let equals = text.firstIndex(of: "=") {
            label = text[..<equals]
            text = text[text.index(after: equals)...]
        }
        let parsed: ContentKey
        do { parsed = try ContentKey(parsing: String(text)) } catch {
            throw PackagerError(.invalidOptions, "\(option): \(error.message)")
        }
        switch label {
        case nil:
            guard defaultKey == nil else { throw PackagerError(.invalidOptions, "\(option): a key without a type is given twice") }
            defaultKey = parsed
        case "video":
            guard videoKey == nil else { throw PackagerError(.invalidOptions, "\(option): video= is given twice") }
            videoKey = parsed
        case "audio":
            guard audioKey == nil else { throw PackagerError(.invalidOptions, "\(option): audio= is given twice") }
            audioKey = parsed
        default:
            throw PackagerError(.invalidOptions, "\(option): the track type is video or audio")
        }
    }

    /// Takes the IV in hex (its length is checked by `validate()`).
    public mutating func setIV(_ text: String, option: String) throws(PackagerError) {
        guard let bytes = Hex.bytes(text) else { throw PackagerError(.invalidOptions, "\(option) is not hexadecimal digits") }
        iv = bytes
    }

    /// Takes one or more concatenated `pssh` boxes, hex or base64.
    public mutating func setPSSH(_ text: String, option: String) throws(PackagerError) {
        let compact = text.filter { !$0.isWhitespace }
        guard let bytes = Hex.bytes(compact) ?? Base64.decode(compact) else {
            throw PackagerError(.invalidOptions, "\(option) is neither hexadecimal nor base64")
        }
        psshBoxes = try ProtectionSystemHeader.split(bytes, source: option)
    }

    /// Takes a `[system=]<url>` license server URL.
    public mutating func addLicenseURL(_ value: String, option: String) throws(PackagerError) {
        var system: DRMSystem?
        var url = value
        if let equals = value.firstIndex(of: "="), let named = DRMSystem(rawValue: String(value[..<equals]).lowercased()) {
            system = named
            url = String(value[value.index(after: equals)...])
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw PackagerError(.invalidOptions, "\(option) \(value) is not an http(s) URL")
        }
        guard licenseURLs[system] == nil else {
            throw PackagerError(.invalidOptions, "\(option) is given twice for \(system?.rawValue ?? "every system")")
        }
        licenseURLs[system] = url
    }

    /// Reads a CPIX document. Unless `drmSystems` were named, only the common system is
    /// signalled besides the document's (Clear Key, which publishes keys, must be asked for).
    public mutating func loadCPIX(path: String, systemsNamed: Bool) throws(PackagerError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PackagerError(.invalidOptions, "cannot read the CPIX document", reason: "not a readable file", file: path)
        }
        cpix = try CPIXDocument(bytes: [UInt8](data), source: path)
        if !systemsNamed { drmSystems = [.common] }
    }
}
