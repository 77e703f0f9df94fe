/// The outcome of sending input to a codec. Not errors: libavcodec's EAGAIN means "receive
/// output first, then send this input again".
public enum SendResult: Sendable, Equatable {
    case accepted
    case tryAgain
}

/// The outcome of asking a codec for output.
public enum ReceiveResult: Sendable, Equatable {
    /// The frame or packet passed in now holds output.
    case output
    /// More input is needed before output is available.
    case tryAgain
    /// Draining finished: there will be no more output.
    case endOfStream
}
