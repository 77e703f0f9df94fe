/// When the origin hands its free heap back to the kernel (`Heap.trim`): once a burst of
/// connections has ended (the open connections fell by at least `burst` from their peak since
/// the last trim, to at most half of it) and at the `followUps` looks after that while they stay
/// that low (memory a burst's connections free only after they have closed is seen by a later
/// trim: 110 MB of a 4,096-connection TLS storm came free 4 to 7 s after the last connection
/// closed), and every `interval` in any case (windows sliding and cache entries leaving free
/// memory too). Fed the open connections every few seconds.
struct HeapTrimPolicy: Sendable {
    enum Action: Equatable, Sendable {
        case wait
        case trim
    }

    /// The fall in open connections that ends a burst.
    var burst = 64
    /// The longest time between two trims.
    var interval: Duration = .seconds(600)
    /// The most connections open at once since the last trim.
    private(set) var peak = 0
    private var sinceTrim: Duration = .zero
    /// The looks after a burst's trim that trim again.
    var followUps = 5
    private var followUpsLeft = 0
    /// The peak of the burst whose follow-ups are pending.
    private var burstPeak = 0

    /// One observation, `elapsed` after the previous one: the connections open now and the
    /// most open at once since the previous observation.
    mutating func observe(openConnections: Int, highest: Int = 0, elapsed: Duration) -> Action {
        peak = max(peak, highest, openConnections)
        sinceTrim += elapsed
        let burstEnded = peak - openConnections >= burst && openConnections * 2 <= peak
        if burstEnded || sinceTrim >= interval {
            (followUpsLeft, burstPeak) = burstEnded ? (followUps, peak) : (0, 0)
            peak = openConnections
            sinceTrim = .zero
            return .trim
        }
        guard followUpsLeft > 0 else { return .wait }
        // A new burst building up ends the follow-ups.
        guard openConnections * 2 <= burstPeak else {
            followUpsLeft = 0
            return .wait
        }
        followUpsLeft -= 1
        sinceTrim = .zero
        return .trim
    }
}
