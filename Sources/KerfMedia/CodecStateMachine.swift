/// The life cycle shared by `Decoder` and `Encoder`: Created → Opened → Streaming → Draining →
/// Closed.
///
/// A value type with no I/O: each event method checks the current state, moves to the next one
/// and returns the action the owner must perform on the codec context. An event the state does
/// not allow throws `MediaError(.wrongState)` and leaves the state unchanged.
public struct CodecStateMachine: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Configured, codec not opened yet.
        case created
        /// Codec opened, no input sent yet.
        case opened
        /// Input is being sent and output received.
        case streaming
        /// End of input signalled; remaining output is being received.
        case draining
        /// Codec freed; no further use.
        case closed
    }

    /// What the owner must do after an event.
    public enum Action: Sendable, Equatable {
        case openCodec
        case sendInput
        case receiveOutput
        /// Signal end of input (send NULL to libavcodec).
        case sendEndOfInput
        /// Draining finished earlier: report end of stream without calling libavcodec.
        case reportEndOfStream
        case freeCodec
        case none
    }

    public private(set) var state: State = .created
    /// Set once the codec has returned end-of-stream while draining.
    public private(set) var isDrained = false
    /// Label used in error messages ("decoder", "encoder").
    public let role: String

    public init(role: String) { self.role = role }

    /// The codec context is about to be opened.
    public mutating func open() throws(MediaError) -> Action {
        guard state == .created else { throw wrongState("open") }
        return .openCodec
    }

    /// The codec opened successfully.
    public mutating func opened() {
        if state == .created { state = .opened }
    }

    /// Input (a packet or a frame) is about to be sent.
    public mutating func send() throws(MediaError) -> Action {
        switch state {
        case .opened, .streaming:
            state = .streaming
            return .sendInput
        case .created, .draining, .closed:
            throw wrongState("send")
        }
    }

    /// Output is requested.
    public mutating func receive() throws(MediaError) -> Action {
        switch state {
        case .opened, .streaming: return .receiveOutput
        case .draining: return isDrained ? .reportEndOfStream : .receiveOutput
        case .created, .closed: throw wrongState("receive")
        }
    }

    /// End of input is signalled.
    public mutating func drain() throws(MediaError) -> Action {
        switch state {
        case .opened, .streaming:
            state = .draining
            return .sendEndOfInput
        case .created, .draining, .closed:
            throw wrongState("drain")
        }
    }

    /// The codec returned end-of-stream.
    public mutating func reachedEndOfStream() {
        if state == .draining { isDrained = true }
    }

    /// The owner closes the codec; closing twice is harmless.
    public mutating func close() -> Action {
        if state == .closed { return .none }
        state = .closed
        return .freeCodec
    }

    private func wrongState(_ event: String) -> MediaError {
        MediaError(.wrongState, "\(role) cannot \(event) while \(state.rawValue)")
    }
}
