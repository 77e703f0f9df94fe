import KerfCore
import KerfMedia

/// Where the pipeline's encoded packets wait to be read, one queue per output track, and the
/// merge that hands them out interleaved by decode time.
///
/// Encoder threads and the reading thread append; the reading thread takes. A packet is handed
/// out once every unfinished dense track has a packet waiting (so the merge is in decode order);
/// sparse tracks (subtitles) are never waited for.
final class PacketCollector: @unchecked Sendable {
    private struct Track {
        var packets: [Packet] = []
        var head = 0
        var finished = false
        let sparse: Bool
        var waiting: Int { packets.count - head }
    }

    /// Packets one track may hold while another dense track has none.
    static let lagLimit = 600
    private let condition = Condition()
    private var tracks: [Track]
    private var failure: (any Error)?

    init(sparse: [Bool]) {
        tracks = sparse.map { Track(sparse: $0) }
    }

    func append(_ packet: Packet, track: Int) {
        condition.withLock {
            tracks[track].packets.append(packet)
            condition.broadcast()
        }
    }

    /// Takes every packet `encoder` has ready, as track `track`.
    func collect(from encoder: Encoder, track: Int) throws {
        while true {
            let packet = Packet()
            guard try encoder.receive(into: packet) == .output else { return }
            packet.streamIndex = track
            append(packet, track: track)
        }
    }

    /// Track `track` will receive no more packets.
    func finish(track: Int) {
        condition.withLock {
            tracks[track].finished = true
            condition.broadcast()
        }
    }

    /// Records the first failure of any producer; the reader throws it.
    func fail(_ error: any Error) {
        condition.withLock {
            if failure == nil { failure = error }
            condition.broadcast()
        }
    }

    /// The outcome of asking for the next packet.
    enum Next {
        case packet(Packet)
        /// A dense track has nothing yet: feed the pipeline more input.
        case needsInput
        case endOfStream
    }

    /// The next packet in decode order. When `inputExhausted`, waits for the encoders instead of
    /// returning `.needsInput`.
    func next(inputExhausted: Bool) throws -> Next {
        condition.lock()
        defer { condition.unlock() }
        while true {
                if let failure { throw failure }
                var best: Int?
                var bestTime: MediaTime?
                var missing = false
                var open = false
                for index in tracks.indices {
                    let track = tracks[index]
                    if track.waiting == 0 {
                        if !track.finished {
                            open = true
                            if !track.sparse { missing = true }
                        }
                        continue
                    }
                    open = true
                    let packet = track.packets[track.head]
                    let time = packet.dts ?? packet.pts ?? .zero(timescale: 1)
                    if bestTime == nil || time < bestTime! { best = index; bestTime = time }
                }
                if !open { return .endOfStream }
                // A dense track silent for long (audio starting late, a gap) must not make the
                // others pile up without bound: past `lagLimit` waiting packets, go on without it.
                if let best, !missing || tracks[best].waiting > Self.lagLimit {
                    return .packet(take(best))
                }
                if !inputExhausted { return .needsInput }
                condition.wait()
        }
    }

    private func take(_ index: Int) -> Packet {
        let packet = tracks[index].packets[tracks[index].head]
        tracks[index].head += 1
        if tracks[index].head > 256 && tracks[index].head * 2 > tracks[index].packets.count {
            tracks[index].packets.removeFirst(tracks[index].head)
            tracks[index].head = 0
        }
        return packet
    }
}
