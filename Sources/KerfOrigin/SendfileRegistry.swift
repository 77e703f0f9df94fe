import NIOCore
import Synchronization

/// The VOD files the router's answers leave to `SendfileBody`, by connection: each plain
/// HTTP/1.1 connection's handler opens its place here, the router registers the file and the
/// bytes of an answer under the connection its request came on, and the handler takes the entry
/// when the answer's head passes, by the token the head carries. An entry's `sent` completes when
/// the bytes have been handed to the socket (or fails when they cannot be): the answer's body
/// waits for it, so Hummingbird counts the request in progress until then. A connection's entries
/// go with it: closing its place fails them, and none can be registered after.
final class SendfileRegistry: Sendable {
    struct Entry: Sendable {
        let file: OpenFile
        let range: Range<Int>
        let sent: EventLoopPromise<Void>
    }

    /// Why an entry's bytes were never sent.
    struct ConnectionClosed: Error {}

    static let shared = SendfileRegistry()

    private struct Connection {
        let loop: any EventLoop
        var entries: [UInt64: Entry] = [:]
    }

    private let state = Mutex<(connections: [UInt64: Connection], next: UInt64)>(([:], 0))

    /// Opens the place of a connection whose handlers run on `loop`, and returns its number.
    func open(on loop: any EventLoop) -> UInt64 {
        state.withLock { state in
            state.next &+= 1
            state.connections[state.next] = Connection(loop: loop)
            return state.next
        }
    }

    /// Closes a connection's place: the entries it still had fail.
    func close(_ connection: UInt64) {
        let left = state.withLock { $0.connections.removeValue(forKey: connection)?.entries.values.map(\.sent) ?? [] }
        for sent in left { sent.fail(ConnectionClosed()) }
    }

    /// Registers `range` of `file` (which holds a descriptor) for an answer on `connection`: its
    /// token and what completes once the bytes are sent; nil when the connection has closed.
    func register(_ file: OpenFile, range: Range<Int>, connection: UInt64) -> (token: String, sent: EventLoopFuture<Void>)? {
        state.withLock { state in
            guard let loop = state.connections[connection]?.loop else { return nil }
            state.next &+= 1
            let sent = loop.makePromise(of: Void.self)
            state.connections[connection]?.entries[state.next] = Entry(file: file, range: range, sent: sent)
            return (String(state.next), sent.futureResult)
        }
    }

    /// The entry of `token` on `connection`, removed; nil when it has none such.
    func take(_ token: String, connection: UInt64) -> Entry? {
        guard let key = UInt64(token) else { return nil }
        return state.withLock { $0.connections[connection]?.entries.removeValue(forKey: key) }
    }

    /// Entries waiting for their answer's head, on every connection.
    var count: Int { state.withLock { $0.connections.values.reduce(0) { $0 + $1.entries.count } } }
}
