import Glibc
import KerfFuzzing

/// libFuzzer's entry point when its own `main` is the one linked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// `kerf-fuzz <target> [libFuzzer options and corpus folders]`: runs one `FuzzTarget` under
/// libFuzzer (built with -sanitize=fuzzer,address; see `make fuzz`). A broken invariant is a
/// trap, so libFuzzer keeps the input as a crash.
@main
enum FuzzDriver {
    nonisolated(unsafe) static var target: FuzzTarget?

    static func main() {
        var arguments = CommandLine.arguments
        // libFuzzer's -fork and -jobs run this program again with the options alone: the target
        // reaches those children through the environment.
        if let inherited = getenv("KERF_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: inherited),
           arguments.count < 2 || FuzzTarget(rawValue: arguments[1]) == nil {
            arguments.insert(target.rawValue, at: 1)
        }
        guard arguments.count > 1, let target = FuzzTarget(rawValue: arguments[1]) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            print("usage: kerf-fuzz <target> [libFuzzer options] [corpus folders]\ntargets: \(names)")
            exit(2)
        }
        Self.target = target
        setenv("KERF_FUZZ_TARGET", target.rawValue, 1)
        arguments.remove(at: 1)
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var count = CInt(arguments.count)
        let status = pointers.withUnsafeMutableBufferPointer { buffer -> CInt in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&count, &argv) { data, size in FuzzDriver.testOneInput(data, size) }
        }
        exit(status)
    }

    static func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        guard let target else { fatalError("no fuzz target chosen") }
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        let problems = target.run(bytes)
        if !problems.isEmpty { fatalError("\(target.rawValue): \(problems.joined(separator: "; "))") }
        return 0
    }
}
