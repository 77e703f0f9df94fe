import Glibc
import KerfTestTags
import Testing
@testable import KerfSystem

/// The one policy: EINTR retried, EAGAIN a value, other errno a `SystemError` with its name.
@Suite(.tags(.unit)) struct SystemCallTests {
    @Test func interruptedCallsAreMadeAgain() throws {
        var answers = [-1, -1, 42]
        let result = try SystemCall.blocking("read") { () -> Int in
            let answer = answers.removeFirst()
            if answer < 0 { errno = EINTR }
            return answer
        }
        #expect(result == .processed(42))
        #expect(answers.isEmpty)
    }

    @Test func wouldBlockIsAValue() throws {
        for code in [EAGAIN, EWOULDBLOCK] {
            let result = try SystemCall.blocking("recv") { () -> Int in errno = code; return -1 }
            #expect(result == .wouldBlock(0))
        }
    }

    @Test func otherErrnoIsThrownWithItsNameCallAndPath() {
        let error = #expect(throws: SystemError.self) {
            try SystemCall.blocking("open", path: "/nowhere/x") { () -> Int32 in errno = ENOENT; return -1 }
        }
        #expect(error?.code == "ENOENT")
        #expect(error?.call == "open")
        #expect(error?.path == "/nowhere/x")
        #expect(error?.reason == "No such file or directory")
        #expect(error?.description == "open /nowhere/x: No such file or directory (ENOENT)")
    }

    @Test func retryingTreatsWouldBlockAsAFailure() {
        let error = #expect(throws: SystemError.self) {
            try SystemCall.retrying("fsync") { () -> Int32 in errno = EAGAIN; return -1 }
        }
        #expect(error?.code == "EAGAIN")
    }

    @Test func errnoWithoutANameIsNumbered() {
        #expect(SystemError.name(of: 4095) == "errno 4095")
        #expect(SystemError.noProgress(call: "write", path: nil).code == SystemError.noProgressCode)
    }
}
