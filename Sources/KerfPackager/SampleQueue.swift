/// Samples pushed to the segmenter and waiting for its decision, in push order. Taken entries
/// are released at once (their payloads are not kept alive) and the storage is compacted as the
/// head advances, so a long run holds only what is still waiting.
struct SampleQueue<Entry> {
    private var entries: [Entry?] = []
    private var head = 0

    /// Entries waiting.
    var count: Int { entries.count - head }

    mutating func append(_ entry: Entry) { entries.append(entry) }

    /// The oldest waiting entry, removed; nil when none waits.
    mutating func popFirst() -> Entry? {
        guard head < entries.count, let entry = entries[head] else { return nil }
        entries[head] = nil
        head += 1
        if head > 256 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return entry
    }
}
