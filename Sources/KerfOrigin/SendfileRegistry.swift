import NIOCore
import Synchronization

/// The VOD files the router's answers leave to `SendfileBody`, by the token their response head
/// carries in `SendfileBody.field`: the file opened for the answer and the bytes to send.
/// An answer never written (its client went away first) leaves its entry behind; such entries
/// go after `lifetime`.
final class SendfileRegistry: Sendable {
    struct Entry: Sendable {
        let file: OpenFile
        let range: Range<Int>
        let registered: NIODeadline
    }

    static let shared = SendfileRegistry()
    /// How long an entry waits for its answer's head.
    static let lifetime = TimeAmount.seconds(60)

    private let state = Mutex<(entries: [UInt64: Entry], next: UInt64, swept: NIODeadline)>(([:], 0, .uptimeNanoseconds(0)))
    /// The time entries are judged by (tests move it by hand).
    private let now: @Sendable () -> NIODeadline

    init(clock now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.now = now
    }

    /// Registers `range` of `file` (which holds a descriptor) and returns its token.
    func register(_ file: OpenFile, range: Range<Int>) -> String {
        let now = now()
        return state.withLock { state in
            if now - state.swept > Self.lifetime {
                state.swept = now
                state.entries = state.entries.filter { now - $0.value.registered <= Self.lifetime }
            }
            state.next &+= 1
            state.entries[state.next] = Entry(file: file, range: range, registered: now)
            return String(state.next)
        }
    }

    /// The entry of `token`, removed; nil when there is none (unknown or gone).
    func take(_ token: String) -> Entry? {
        guard let key = UInt64(token) else { return nil }
        return state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// Entries waiting for their answer.
    var count: Int { state.withLock { $0.entries.count } }
}
