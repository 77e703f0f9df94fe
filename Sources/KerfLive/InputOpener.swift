import KerfMedia

/// How a channel opens its input: a URL or file through libavformat, or (tests) a source of
/// their own. Reads honour the interrupt flag, so `stop()` ends a blocked read.
package struct InputOpener: Sendable {
    package let open: @Sendable (_ url: String, _ options: [String: String], _ interrupt: InterruptFlag) throws -> any PacketSource

    package init(_ open: @escaping @Sendable (_ url: String, _ options: [String: String], _ interrupt: InterruptFlag) throws -> any PacketSource) {
        self.open = open
    }

    /// libavformat's demuxers and protocols (`MediaInput`).
    package static let libavformat = InputOpener { url, options, interrupt in
        try MediaInput(url: url, options: options, interrupt: interrupt)
    }
}
