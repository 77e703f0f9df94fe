import Foundation

/// Runs tests of this test binary again in a process of their own: for checks of process-wide
/// state (resident memory) that other suites running in parallel would disturb.
public enum TestProcess {
    /// Set in the environment of a test run by `runAlone`.
    public static let aloneVariable = "KERF_TEST_ALONE"

    /// True in a test process started by `runAlone`.
    public static var isAlone: Bool { ProcessInfo.processInfo.environment[aloneVariable] == "1" }

    /// Runs the Swift Testing tests whose identifiers match `filter` (a regular expression such
    /// as `KerfValidateTests\.MPDFuzzTests/`) in a new process of this test binary; returns
    /// its exit status and output.
    public static func runAlone(_ filter: String) async throws -> Command.Result {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try Command.run(binary, ["--testing-library", "swift-testing", "--filter", filter],
                                    environment: [aloneVariable: "1"])
                })
            }
        }
    }
}
