import KerfCore
import KerfCrypto
import KerfRTMP
import Synchronization

/// A push channel's one place for an RTMP publisher: taken by the first publisher with the
/// channel's key, free again when its stream ends. The RTMP server asks through the channel;
/// the ingest thread waits here for the next publisher.
final class PublisherSlot: Sendable {
    private let current = Mutex<FLVPipe?>(nil)

    /// A publish to channel `channel` with `key`, checked against `expected` (in constant time):
    /// a pipe for its media when the key is right and no one else is publishing.
    func accept(key: String?, expected: String?, channel: String) -> Result<FLVPipe, RTMPServer.Refusal> {
        guard let expected, let key, HMACSHA256.secretsMatch(Array(key.utf8), Array(expected.utf8)) else {
            return .failure(RTMPServer.Refusal(code: "NetStream.Publish.Denied", description: "wrong stream key for channel \(channel)"))
        }
        return current.withLock { current in
            if let current, !current.isFinished {
                return .failure(RTMPServer.Refusal(code: "NetStream.Publish.BadName", description: "channel \(channel) already has a publisher"))
            }
            let pipe = FLVPipe()
            current = pipe
            return .success(pipe)
        }
    }

    /// Waits until a publisher's stream is there, looking every 50 ms of `clock`; nil once
    /// `stop()` is true.
    func waitForPublisher(clock: any WallClock, stop: () -> Bool) -> FLVPipe? {
        while !stop() {
            if let pipe = current.withLock({ $0 }), !pipe.isFinished { return pipe }
            clock.sleep(until: clock.now() + 0.05, stop: stop)
        }
        return nil
    }

    /// Ends the current publisher's stream (the channel stops).
    func finish() {
        current.withLock { $0?.finish() }
    }
}
