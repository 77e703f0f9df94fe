import Foundation
import KerfTestSupport
import KerfTestTags
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The test suites' way of starting programs: children inherit only their standard streams and
/// start with default signal handling, whatever the thread that starts them has.
@Suite(.tags(.integration)) struct ChildProcessTests {
    /// A descriptor the test process holds open (not close-on-exec, as a pipe another thread
    /// is about to hand to its own child) is not inherited.
    @Test func childrenInheritOnlyTheirStandardStreams() throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        // The shell's own descriptors (`; true` keeps it from replacing itself with ls, whose
        // directory handle would be listed too).
        let listed = try Command.run("/bin/sh", ["-c", "ls /proc/$$/fd; true"])
        #expect(listed.status == 0)
        let descriptors = Set(listed.stdout.split(separator: "\n").compactMap { Int32($0) })
        #expect(descriptors == [0, 1, 2], "the shell holds \(descriptors.sorted())")
    }

    /// SIGTERM blocked in the starting thread (as in the test runner's workers) is not blocked
    /// in the child; an exit by signal reports the signal's number.
    @Test func childrenStartWithDefaultSignalHandling() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let child = try ChildProcess("sleep", ["60"])
        #expect(child.isRunning)
        child.kill(SIGTERM)
        #expect(child.terminationStatus == SIGTERM)
        #expect(!child.isRunning)
        let exited = try ChildProcess("/bin/sh", ["-c", "exit 3"])
        #expect(exited.terminationStatus == 3)
    }

    /// stdin as a pipe: what the parent writes reaches the child, closing it ends the input.
    @Test func pipedStandardInput() throws {
        let child = try ChildProcess("/bin/cat", [], stdin: .pipe, stdout: .pipe)
        child.stdin?.write(Data("hello\n".utf8))
        try child.stdin?.close()
        #expect(String(decoding: child.stdout?.readDataToEndOfFile() ?? Data(), as: UTF8.self) == "hello\n")
        #expect(child.terminationStatus == 0)
    }

    /// One thread waits for the exit while another polls `isRunning`: both see the same end,
    /// the status is the program's.
    @Test func waitingAndPollingAgree() throws {
        for code in 0..<20 {
            let child = try ChildProcess("/bin/sh", ["-c", "exit \(code)"])
            let waited = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                child.waitUntilExit()
                waited.signal()
            }
            while child.isRunning {}
            waited.wait()
            #expect(!child.isRunning)
            #expect(child.terminationStatus == Int32(code))
        }
    }
}
