import Synchronization

/// Bounded multi-producer queue from the workers to the output thread. A
/// worker never waits: when the queue is full the event is counted as lost.
public final class EventQueue: Sendable {
    private let storage: Mutex<[Event]>
    private let lost = Atomic<UInt64>(0)
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        var buffer: [Event] = []
        buffer.reserveCapacity(capacity)
        storage = Mutex(buffer)
    }

    /// Appends a batch; returns how many did not fit.
    @discardableResult
    public func push(_ events: [Event]) -> Int {
        guard !events.isEmpty else { return 0 }
        let dropped = storage.withLock { buffer -> Int in
            let room = capacity - buffer.count
            if room >= events.count {
                buffer.append(contentsOf: events)
                return 0
            }
            if room > 0 { buffer.append(contentsOf: events.prefix(room)) }
            return events.count - max(room, 0)
        }
        if dropped > 0 { lost.add(UInt64(dropped), ordering: .relaxed) }
        return dropped
    }

    /// Takes everything queued.
    public func drain() -> [Event] {
        storage.withLock { buffer in
            let out = buffer
            buffer.removeAll(keepingCapacity: true)
            return out
        }
    }

    public var lostCount: UInt64 { lost.load(ordering: .relaxed) }
}
