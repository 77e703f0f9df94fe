import ArgumentParser
import FoundationEssentials
import KerfCore
import KerfMedia
import KerfSystem
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The `kerf` command: package, serve, validate and probe HLS/DASH media.
@main
struct Kerf: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "kerf",
        abstract: "Segmenting packager, origin and validator for HLS and DASH.",
        version: "kerf \(version)",
        subcommands: [PackageCommand.self, ServeCommand.self, ProbeCommand.self, ValidateCommand.self, SignCommand.self]
    )

    /// Runs the command; prints one line per error and exits 2 for bad input or usage, 3 when
    /// Kerf itself failed, 0 otherwise (commands exit 1 themselves for findings).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as any ReportableError {
            fail("kerf: \(error.oneLine)", code: error.isInputError ? 2 : 3)
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            // ArgumentParser's usage errors (its default 64) become Kerf's 2.
            fail(fullMessage(for: error), code: code == .validationFailure ? 2 : code.rawValue)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        var text = message
        if !text.hasSuffix("\n") { text += "\n" }
        writeStandardError(text)
        Glibc.exit(code)
    }
}

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log progress and FFmpeg's messages to stderr.")
    var verbose = false

    /// Sets up swift-log and FFmpeg's log routing for this invocation.
    func bootstrapLogging() {
        let level: Logger.Level = verbose ? .info : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Without --verbose, FFmpeg's own messages are dropped: Kerf's errors carry the cause.
        MediaLibrary.setLogLevel(verbose ? .info : nil)
    }
}

/// Prints a value as Kerf's stable JSON: pretty-printed, keys sorted, slashes unescaped.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Writes text to stderr unbuffered (the C `stderr` global is not concurrency-safe in Swift 6),
/// all of it; a failure to write to stderr has nowhere to be reported.
func writeStandardError(_ text: String) {
    try? SystemFile(rawValue: STDERR_FILENO, path: "stderr").write(all: Array(text.utf8))
}
