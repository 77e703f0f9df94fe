import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfOrigin

/// `kerf sign`: makes a signed playback URL for an origin configured with `token-secret`.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a playback URL for a kerf serve origin that requires tokens.",
        discussion: """
            Prints /token/<expires>/<signature><path>: valid for every file of the package or \
            channel the path is in (/vod/<package>/… or /live/<channel>/…) until it expires, so \
            the relative URLs inside playlists and MPDs carry the token along.
            """
    )

    @Argument(help: "The path to sign: /vod/<package>/<file> or /live/<channel>/<file>.")
    var path: String

    @Option(help: "The origin's configuration file, to read token-secret from.")
    var config: String?

    @Option(help: "The secret (token-secret of the origin), instead of --config.")
    var secret: String?

    @Option(name: .customLong("expires-in"), help: "Seconds the URL stays valid (default 3600).")
    var expiresIn: Int = 3600

    @Option(help: "Put this in front of the signed path, e.g. http://127.0.0.1:8080.")
    var base: String = ""

    func run() throws {
        var key = secret
        if key == nil, let config {
            key = try OriginConfiguration.load(file: config).tokenSecret
            if key == nil { throw OriginError(.configuration, "token-secret is not set", file: config) }
        }
        guard let key else { throw ValidationError("give --secret or --config") }
        guard expiresIn > 0 else { throw ValidationError("--expires-in must be positive") }
        let expires = Int64(UTCTime.now()) + Int64(expiresIn)
        guard let signed = SignedURL(secret: key).sign(path: path, expires: expires) else {
            throw OriginError(.signing, "cannot sign this path", reason: "sign /vod/<package>/… or /live/<channel>/…", file: path)
        }
        print(base + signed)
    }
}
