import Foundation
import KerfCore
import NIOCore
@testable import KerfOrigin

extension FuzzTarget {
    /// A request head as `RawRequestResponder` reads it off the socket (where it can start, where
    /// it ends, bare LFs, its classification: a live request is a GET or HEAD of a /live/ path),
    /// and a plain request's path resolved under a folder as `RequestPath` does (nothing outside
    /// the folder ever comes back).
    static func httpHead(_ bytes: [UInt8]) -> [String] {
        var problems: [String] = []
        let buffer = ByteBuffer(bytes: bytes)
        _ = RawRequestResponder.canStartRequest(buffer)
        _ = RawRequestResponder.hasBareLineFeed(buffer)
        let length = RawRequestResponder.headLength(buffer)
        if let length, length > bytes.count || length < 4 { problems.append("head length \(length) of \(bytes.count) bytes") }
        let head = bytes.prefix(length ?? bytes.count)
        let classified = Array(head).withUnsafeBytes { RawRequestResponder.parse($0, maxURLLength: 4096) }
        if case .plain(let path, _, _) = classified {
            problems += resolved(path)
        }
        // A request the raw path may park is a live path of a GET or HEAD.
        if case .live(let target, let isHead) = classified,
           !target.hasPrefix("/live/") || !head.starts(with: Array((isHead ? "HEAD " : "GET ").utf8)) {
            problems.append("\(target.debugDescription) classified as a live request")
        }
        // Any text as a route-relative path.
        problems += resolved(Substring(decoding: bytes.prefix(4096), as: UTF8.self))
        return problems
    }

    /// The folder paths resolve under: one that exists, so symbolic links and real files are met.
    static let servedRoot: String = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kerf-fuzz-root-\(getpid())")
        try? FileManager.default.createDirectory(at: root.appendingPathComponent("pkg"), withIntermediateDirectories: true)
        try? Data("#EXTM3U\n".utf8).write(to: root.appendingPathComponent("pkg/master.m3u8"))
        try? FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("out").path, withDestinationPath: "/etc")
        return RequestPath.realPath(root.path) ?? root.path
    }()

    private static func resolved(_ path: Substring) -> [String] {
        guard case .success(let found) = RequestPath.resolve(path, under: servedRoot) else { return [] }
        return found.file.hasPrefix(servedRoot + "/") ? [] : ["\(path.debugDescription) resolves outside the root"]
    }

    /// A Range header against resources of several sizes: a part is always inside the resource.
    static func range(_ bytes: [UInt8]) -> [String] {
        let header = String(decoding: bytes, as: UTF8.self)
        var problems: [String] = []
        for size in [0, 1, 1000, 1 << 40, Int.max] {
            if case .part(let part) = RangeRequest(header, size: size), part.lowerBound < 0 || part.upperBound >= size {
                problems.append("\(header.debugDescription) gives \(part) of \(size) bytes")
            }
        }
        return problems
    }

    /// The secret the signed-URL corpus was signed with.
    static let signingSecret = "kerf-fuzz-secret"

    /// A request path checked as a signed URL; the same text signed as a path then checked:
    /// what is signed is allowed until it expires, for exactly the path signed.
    static func signedURL(_ bytes: [UInt8]) -> [String] {
        let signer = SignedURL(secret: signingSecret)
        let text = String(decoding: bytes, as: UTF8.self)
        if case .allowed(let path) = signer.verify(Substring(text), now: 1_700_000_000), !text.hasSuffix(path) {
            return ["\(text.debugDescription) allows \(path.debugDescription), which it does not end with"]
        }
        let expires: Int64 = 1_800_000_000
        guard let signed = signer.sign(path: text, expires: expires) else { return [] }
        var problems: [String] = []
        if signer.verify(Substring(signed), now: Double(expires - 1)) != .allowed(path: Substring(text)) {
            problems.append("\(text.debugDescription) signed is not allowed")
        }
        if signer.verify(Substring(signed), now: Double(expires + 1)) != .expired {
            problems.append("\(text.debugDescription) signed does not expire")
        }
        return problems
    }

    /// A serve configuration (channels, encryption, limits) read from YAML.
    static func yaml(_ bytes: [UInt8]) -> [String] {
        // As `load(file:)` reads a file.
        _ = try? OriginConfiguration.load(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        return []
    }
}
