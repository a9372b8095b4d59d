import Synchronization

/// An immutable compiled thing (rule set, signature set) swapped atomically
/// on reload. Workers compare the generation (one relaxed atomic load per
/// batch) and take the lock only when it changed.
public final class Snapshot<Value: Sendable>: Sendable {
    private let current: Mutex<Value>
    private let generationCounter = Atomic<UInt64>(1)

    public init(_ value: Value) { current = Mutex(value) }

    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    public func load() -> (Value, UInt64) {
        current.withLock { ($0, generationCounter.load(ordering: .acquiring)) }
    }

    public func replace(_ value: Value) {
        current.withLock {
            $0 = value
            generationCounter.add(1, ordering: .releasing)
        }
    }
}

/// The rules in force.
public typealias RuleSnapshot = Snapshot<RuleSet>
