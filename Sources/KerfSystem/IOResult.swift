#if canImport(Glibc)
import Glibc
#endif

/// The outcome of a transfer on a descriptor that may be non-blocking: done, or stopped because
/// the call would have blocked (EAGAIN/EWOULDBLOCK), which is a state and not an error.
public enum IOResult<Value> {
    /// The call (or the whole transfer) completed; the value is its result.
    case processed(Value)
    /// The descriptor is non-blocking and cannot transfer now; the value is the progress made
    /// before it stopped (0 for a single call).
    case wouldBlock(Value)

    /// The value, whichever way the transfer ended.
    public var value: Value {
        switch self {
        case .processed(let value), .wouldBlock(let value): return value
        }
    }
}

extension IOResult: Sendable where Value: Sendable {}
extension IOResult: Equatable where Value: Equatable {}

extension IOResult where Value == Int {
    /// The count of a transfer on a descriptor meant to block (a regular file), where stopping
    /// on EAGAIN is a failure.
    /// - Throws: `SystemError` EAGAIN for `.wouldBlock`.
    public func completed(_ call: String, path: String?) throws(SystemError) -> Int {
        guard case .processed(let count) = self else { throw SystemError(errno: EAGAIN, call: call, path: path) }
        return count
    }
}
