/// When the origin hands its free heap back to the kernel (`Heap.trim`): once a burst of
/// connections has ended (the open connections fell by at least `burst` from their peak since
/// the last trim, to at most half of it), and every `interval` in any case (windows sliding and
/// cache entries leaving free memory too). Fed the open connections every few seconds.
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

    /// One observation, `elapsed` after the previous one: the connections open now and the
    /// most open at once since the previous observation.
    mutating func observe(openConnections: Int, highest: Int = 0, elapsed: Duration) -> Action {
        peak = max(peak, highest, openConnections)
        sinceTrim += elapsed
        let burstEnded = peak - openConnections >= burst && openConnections * 2 <= peak
        guard burstEnded || sinceTrim >= interval else { return .wait }
        peak = openConnections
        sinceTrim = .zero
        return .trim
    }
}
