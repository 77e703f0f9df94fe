import NIOCore

/// Adds the router's handlers to a connection (Hummingbird's HTTP/1.1 decoder, encoder, codec,
/// connection state handler and async channel, and the origin's handlers that go with them),
/// and the Swift task that runs them, when a request first goes on to them. A connection whose
/// requests the raw path answers alone (a player fetching what the cache holds, each of a crowd
/// of new connections asking for one playlist) never pays for them. Used on the channel's event
/// loop only.
final class RouterAttachment {
    private let make: () throws -> Void
    /// The router's handlers are in the pipeline.
    private(set) var attached = false

    init(make: @escaping () throws -> Void) {
        self.make = make
    }

    /// Adds the router's handlers, once.
    /// - Throws: what adding a handler threw (the connection cannot be answered: close it).
    func attach() throws {
        guard !attached else { return }
        try make()
        attached = true
    }
}
