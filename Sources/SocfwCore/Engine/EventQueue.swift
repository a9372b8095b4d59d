import Dispatch
import Synchronization

/// Bounded multi-producer queue from the workers to the output thread. A
/// worker never waits: when the queue is full the event is counted as lost.
///
/// The output thread sleeps in `wait(milliseconds:)` between rounds; a batch
/// with an event that should not wait (an alert, a drop, a detection — all but
/// ended flows) wakes it at once, so an alert reaches EVE, the database and
/// subscribers within a millisecond or two instead of at the next round.
/// Producers signal only while the consumer sleeps: one wakeup per round at
/// most, however many events arrive.
public final class EventQueue: Sendable {
    private let storage: Mutex<[Event]>
    private let lost = Atomic<UInt64>(0)
    private let sleeping = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
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
        if sleeping.load(ordering: .relaxed), events.contains(where: { $0.kind != .flow }),
           sleeping.exchange(false, ordering: .acquiringAndReleasing) {
            wakeup.signal()
        }
        return dropped
    }

    public enum WaitResult: Sendable, Equatable {
        /// Events were already queued: no pause.
        case pending
        /// An event that should not wait was pushed during the pause.
        case woken
        /// The pause ran its length.
        case timedOut
    }

    /// The consumer's pause: returns after `milliseconds`, or as soon as an
    /// event that should not wait is pushed (at once if events are queued).
    @discardableResult
    public func wait(milliseconds: Int) -> WaitResult {
        sleeping.store(true, ordering: .sequentiallyConsistent)
        if !storage.withLock({ $0.isEmpty }) {
            sleeping.store(false, ordering: .relaxed)
            return .pending
        }
        let result = wakeup.wait(timeout: .now() + .milliseconds(milliseconds))
        sleeping.store(false, ordering: .relaxed)
        return result == .success ? .woken : .timedOut
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
