import FoundationEssentials
import KerfManifest

/// HLS Content Steering (RFC 8216bis §4.4.6.6, Apple's Content Steering specification): the
/// EXT-X-CONTENT-STEERING PATHWAY-ID names a Pathway of the variants; with `--deep` the steering
/// manifest at SERVER-URI is read and checked.
extension Validator {
    static let steeringSpec = "HLS Content Steering Specification v1.2"

    /// The steering manifest's fields (JSON, UPPER-CASE keys).
    struct SteeringManifest: Decodable {
        var version: Int?
        var ttl: Int?
        var reloadURI: String?
        var pathwayPriority: [String]?
        enum CodingKeys: String, CodingKey {
            case version = "VERSION", ttl = "TTL", reloadURI = "RELOAD-URI", pathwayPriority = "PATHWAY-PRIORITY"
        }
    }

    func steeringChecks(_ document: HLSDocument, path: String, base: String, loader: ResourceLoader) async -> [Finding] {
        guard let tag = document.tags("EXT-X-CONTENT-STEERING").first, let attributes = tag.attributes else { return [] }
        var findings: [Finding] = []
        func add(_ rule: String, _ message: String, _ reference: String) {
            findings.append(Finding(rule: rule, severity: .error, message: message, file: path, line: tag.line, reference: reference))
        }
        // Variants without PATHWAY-ID are on the Pathway ".".
        let pathways = Set((document.tags("EXT-X-STREAM-INF") + document.tags("EXT-X-I-FRAME-STREAM-INF"))
            .map { $0.attributes?[attribute: "PATHWAY-ID"]?.unquoted ?? "." })
        if let initial = attributes[attribute: "PATHWAY-ID"]?.unquoted, !pathways.contains(initial) {
            add("hls.steering-pathway", "PATHWAY-ID \"\(initial)\" is the Pathway of no variant (\(pathways.sorted().joined(separator: ", ")))",
                "\(HLSRules.rfc) §4.4.6.6")
        }
        guard deep, let server = attributes[attribute: "SERVER-URI"]?.unquoted else { return findings }
        // A local playlist is checked with what is on disk: absolute URLs are not fetched.
        guard ResourceLoader.isRemote(base) || !server.contains("://") else { return findings }
        let location = ResourceLoader.resolve(server, against: base)
        let manifest: SteeringManifest
        do {
            let loaded = try await loader.load(location, limit: 1 << 20)
            manifest = try JSONDecoder().decode(SteeringManifest.self, from: Data(loaded.bytes))
        } catch {
            add("hls.steering-manifest", "the steering manifest \(server) cannot be read as one: \(error)", Self.steeringSpec)
            return findings
        }
        var problems: [String] = []
        if manifest.version != 1 { problems.append("VERSION is \(manifest.version.map(String.init) ?? "missing"), not 1") }
        if (manifest.ttl ?? 0) <= 0 { problems.append("TTL is \(manifest.ttl.map(String.init) ?? "missing"), not a positive number of seconds") }
        if let priority = manifest.pathwayPriority, !priority.isEmpty {
            let bad = priority.filter { id in id.isEmpty || !id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0) } }
            if !bad.isEmpty { problems.append("PATHWAY-PRIORITY holds IDs that are not [a-zA-Z0-9-._]: \(bad.joined(separator: ", "))") }
            if pathways.isDisjoint(with: priority) {
                problems.append("PATHWAY-PRIORITY (\(priority.joined(separator: ", "))) names no Pathway of the variants")
            }
        } else {
            problems.append("PATHWAY-PRIORITY is missing or empty")
        }
        for problem in problems {
            add("hls.steering-manifest", "steering manifest \(server): \(problem)", Self.steeringSpec)
        }
        return findings
    }
}
