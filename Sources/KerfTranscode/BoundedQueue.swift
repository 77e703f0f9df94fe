import KerfCore
/// A first-in first-out queue between two threads that blocks the producer while `capacity`
/// items wait (backpressure) and the consumer while it is empty.
final class BoundedQueue<Element>: @unchecked Sendable {
    let capacity: Int
    private let condition = Condition()
    private var items: [Element?] = []
    private var head = 0
    private var closed = false
    private var cancelled = false

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    private var count: Int { items.count - head }

    /// Appends `item`, waiting while the queue is full.
    /// - Returns: false when the queue was closed (the consumer gave up): the item is dropped.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.withLock {
            while count >= capacity && !closed { condition.wait() }
            guard !closed else { return false }
            items.append(item)
            condition.broadcast()
            return true
        }
    }

    /// Takes the oldest item, waiting while the queue is empty; `nil` once closed and empty.
    func pop() -> Element? {
        condition.withLock {
            while count == 0 && !closed { condition.wait() }
            guard count > 0 else { return nil }
            let item = items[head]
            items[head] = nil
            head += 1
            if head > 64 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return item
        }
    }

    /// No more items will be pushed; the consumer drains what is queued. Wakes blocked producers,
    /// whose pushes then fail.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// True once `cancel()` was called.
    var isCancelled: Bool { condition.withLock { cancelled } }

    /// Drops everything queued and closes the queue.
    func cancel() {
        condition.withLock {
            closed = true
            cancelled = true
            items = []
            head = 0
            condition.broadcast()
        }
    }
}
