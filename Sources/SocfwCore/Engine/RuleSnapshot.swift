import Synchronization

/// The current rule set, swapped atomically on reload. Workers compare the
/// generation (one relaxed atomic load per batch) and take the lock only
/// when it changed.
public final class RuleSnapshot: Sendable {
    private let current: Mutex<RuleSet>
    private let generationCounter = Atomic<UInt64>(1)

    public init(_ ruleSet: RuleSet) { current = Mutex(ruleSet) }

    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    public func load() -> (RuleSet, UInt64) {
        current.withLock { ($0, generationCounter.load(ordering: .acquiring)) }
    }

    public func replace(_ ruleSet: RuleSet) {
        current.withLock {
            $0 = ruleSet
            generationCounter.add(1, ordering: .releasing)
        }
    }
}
