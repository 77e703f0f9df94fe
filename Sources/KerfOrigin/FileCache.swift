import Synchronization

/// Recently served VOD files kept in memory (`file-cache:` MiB), so a hot playlist or segment
/// costs no trip to the thread pool: an entry is served as it is for `validity` after it was
/// read or last found unchanged, then the next request looks at the file again (a package
/// rewritten on disk is seen within that second, as with nginx's open_file_cache_valid): an
/// unchanged file keeps its entry (`previous`), another is read again; while that one look is
/// under way (up to `refreshGrace`), the other requests are still answered from the entry.
/// Keyed by the raw request path, so a rejected path never enters; entries holding more than
/// `largestEntry` bytes (a sealed copy counts), or costing more than the capacity, are never
/// kept. When the total passes the capacity, the entries read longest ago go first.
final class FileCache: Sendable {
    private struct Entry {
        var file: ServedFile
        var readAt: ContinuousClock.Instant
        /// A request is reading the file again: until then the entry still answers.
        var refreshingUntil: ContinuousClock.Instant?
    }

    /// How long an expired entry keeps answering while one request reads the file again.
    static let refreshGrace = Duration.milliseconds(200)

    let capacity: Int
    let largestEntry: Int
    let validity: Duration
    private let state = Mutex<(entries: [String: Entry], bytes: Int)>(([:], 0))

    /// The time entries are read and judged by (tests move it by hand).
    private let now: @Sendable () -> ContinuousClock.Instant

    init(capacity: Int, largestEntry: Int = 8 << 20, validity: Duration = .seconds(1),
         clock now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
        self.capacity = capacity
        self.largestEntry = min(largestEntry, capacity)
        self.validity = validity
    }

    /// What an entry is charged: its bytes in memory (a sealed copy's too), its key and a fixed
    /// allowance for headers.
    private static func cost(_ file: ServedFile, key: Substring) -> Int {
        file.file.memoryBytes + key.utf8.count + 1024
    }

    /// The cached file for `raw` when it was read less than `validity` ago.
    /// - Parameter stale: past the validity, the first such caller gets nil (its request goes
    ///   on to read the file again, with `stale` false all the way) and the next ones get the
    ///   entry for the refresh grace.
    func lookup(_ raw: Substring, stale: Bool = false) -> ServedFile? {
        guard capacity > 0 else { return nil }
        let now = now()
        let key = String(raw)
        return state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            if now - entry.readAt < validity { return entry.file }
            guard stale else { return nil }
            if let until = entry.refreshingUntil, now < until { return entry.file }
            state.entries[key]?.refreshingUntil = now + Self.refreshGrace
            return nil
        }
    }

    /// The entry for `raw` however old it is, without claiming its refresh: what a request
    /// refreshing it compares the file on disk with.
    func previous(_ raw: Substring) -> ServedFile? {
        guard capacity > 0 else { return nil }
        return state.withLock { $0.entries[String(raw)]?.file }
    }

    /// Forgets `raw` (its file is gone or is no longer kept whole).
    func remove(_ raw: Substring) {
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: String(raw)) { state.bytes -= Self.cost(old.file, key: raw) }
        }
    }

    /// Keeps a file read whole (a snapshot), replacing what `raw` had; anything else removes
    /// what `raw` had.
    func store(_ raw: Substring, _ file: ServedFile) {
        guard capacity > 0 else { return }
        guard file.file.isSnapshot, file.file.memoryBytes <= largestEntry, Self.cost(file, key: raw) <= capacity else { return remove(raw) }
        let entry = Entry(file: file, readAt: now())
        state.withLock { state in
            if let old = state.entries.updateValue(entry, forKey: String(raw)) { state.bytes -= Self.cost(old.file, key: raw) }
            state.bytes += Self.cost(file, key: raw)
            while state.bytes > capacity, let oldest = state.entries.min(by: { $0.value.readAt < $1.value.readAt }) {
                state.entries[oldest.key] = nil
                state.bytes -= Self.cost(oldest.value.file, key: Substring(oldest.key))
            }
        }
    }
}
