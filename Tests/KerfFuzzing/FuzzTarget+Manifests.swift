import KerfCore
import KerfManifest
import KerfXML
@testable import KerfValidate

extension FuzzTarget {
    /// An HLS playlist through the parser, the validator's rules for its kind, the playlist
    /// models, and serialisation: what serialises parses again to the same tags, URIs and
    /// comments (blank lines carry nothing; an empty playlist serialises as one).
    static func hls(_ bytes: [UInt8]) -> [String] {
        guard let document = try? HLSDocument.parse(bytes, limits: .init(maxBytes: 1 << 20)) else { return [] }
        let file = "fuzz.m3u8"
        _ = HLSRules.common(document, file: file)
        if document.isMultivariant {
            _ = HLSRules.multivariant(document, file: file)
            _ = HLSRules.sessionKeys(document, file: file, location: "http://fuzz.example/a/\(file)", media: [], allRead: false)
            _ = document.multivariantPlaylist()
        } else {
            _ = HLSRules.media(document, file: file)
            _ = document.mediaPlaylist()
        }
        let text = document.serialize()
        guard let again = try? HLSDocument.parse(Array(text.utf8), limits: .init(maxBytes: 4 << 20)) else {
            return ["a parsed playlist does not parse after serialisation"]
        }
        func meaningful(_ document: HLSDocument) -> [HLSDocument.Content] { document.lines.map(\.content).filter { $0 != .blank } }
        let before = meaningful(document), after = meaningful(again)
        guard before != after else { return [] }
        let index = (0..<min(before.count, after.count)).first { before[$0] != after[$0] } ?? min(before.count, after.count)
        let was = index < before.count ? String(reflecting: before[index]) : "nothing"
        let now = index < after.count ? String(reflecting: after[index]) : "nothing"
        return ["a playlist changes in a serialise-parse round trip: \(was) became \(now)"]
    }

    /// An MPD through the XML reader, the DASH rules, segment addressing as a live MPD read now
    /// would be resolved, and serialisation.
    static func mpd(_ bytes: [UInt8]) -> [String] {
        guard let tree = try? XMLReader.read(bytes, name: "fuzz.mpd", maxBytes: 1 << 20) else { return [] }
        _ = DASHRules.check(tree, file: "fuzz.mpd")
        let presentation = DASHPresentation(tree, location: "http://fuzz.example/a/fuzz.mpd", now: 1_700_000_000)
        _ = DASHRules.check(presentation, profiles: tree.attribute("profiles") ?? "", file: "fuzz.mpd")
        for representation in presentation.representations.prefix(8) {
            for segment in representation.segments.prefix(8) {
                _ = representation.url(of: segment)
                _ = representation.start(segment)
            }
        }
        _ = try? XMLDocument.serialize(tree)
        return []
    }
}
