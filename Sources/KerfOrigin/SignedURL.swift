import KerfCrypto

/// Signed playback URLs, like a CDN's token authentication: the token sits in the path, ahead of
/// what it grants, so the relative URLs inside playlists and MPDs inherit it:
///
///     /token/<expires>/<signature>/vod/<package>/master.m3u8
///
/// `expires` is a Unix time in seconds; the signature is the first 16 bytes, in hex, of
/// HMAC-SHA256(secret, "<expires>" + scope), where the scope is the package or channel the
/// token opens (`/vod/<package>/` or `/live/<channel>/`): one token serves every playlist and
/// segment of one presentation until it expires.
public struct SignedURL: Sendable {
    public static let prefix = "/token/"
    let secret: [UInt8]

    public init(secret: String) { self.secret = Array(secret.utf8) }

    public enum Verdict: Equatable, Sendable {
        /// The token is valid; `path` is the request path without the token.
        case allowed(path: Substring)
        case expired
        case invalid
    }

    /// The scope a path falls in: `/vod/<name>/` or `/live/<name>/`, or nil for other paths.
    static func scope(of path: Substring) -> Substring? {
        let parts = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, parts[1] == "vod" || parts[1] == "live",
              let slash = parts[2].firstIndex(of: "/"), slash > parts[2].startIndex else { return nil }
        return path[path.startIndex...slash]
    }

    func signature(expires: Int64, scope: Substring) -> String {
        let code = HMACSHA256.authenticationCode(key: secret, message: Array("\(expires)\(scope)".utf8))
        return code.prefix(16).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// `path` (`/vod/<package>/…` or `/live/<channel>/…`) with a token valid until `expires`.
    /// - Returns: nil when the path is not inside a package or channel.
    public func sign(path: String, expires: Int64) -> String? {
        guard let scope = Self.scope(of: Substring(path)) else { return nil }
        return "\(Self.prefix)\(expires)/\(signature(expires: expires, scope: scope))\(path)"
    }

    /// Checks a request path that starts with `/token/`.
    /// - Parameter now: Unix time in seconds.
    public func verify(_ path: Substring, now: Double) -> Verdict {
        guard path.hasPrefix(Self.prefix) else { return .invalid }
        let rest = path.dropFirst(Self.prefix.count)
        let parts = rest.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 12, parts[0].allSatisfy(\.isASCII), let expires = Int64(parts[0]),
              parts[1].count == 32 else { return .invalid }
        let target = path[path.index(before: parts[2].startIndex)...]
        guard let scope = Self.scope(of: target) else { return .invalid }
        let expected = Array(signature(expires: expires, scope: scope).utf8)
        guard HMACSHA256.constantTimeEqual(expected, Array(parts[1].lowercased().utf8)) else { return .invalid }
        return Double(expires) < now ? .expired : .allowed(path: target)
    }
}
