import SocfwIDS
import Synchronization

/// Matches per signature summed over the workers. Each worker publishes a
/// copy of its counts about once a second, tagged with the set it counted
/// for; counts of a set that was replaced are dropped (a reload starts the
/// signature counters afresh, unlike the rule counters, which are kept by
/// name).
public final class SignatureHitTotals: Sendable {
    private struct Published {
        var set: ObjectIdentifier
        var hits: [UInt64]
    }

    private let published = Mutex<[Int: Published]>([:])

    public init() {}

    public func publish(worker: Int, set: SignatureSet, _ hits: [UInt64]) {
        published.withLock { $0[worker] = Published(set: ObjectIdentifier(set), hits: hits) }
    }

    /// The totals for `set` (zeros for workers that have not counted it yet).
    public func totals(for set: SignatureSet) -> [UInt64] {
        var sum = [UInt64](repeating: 0, count: set.count)
        published.withLock { all in
            for p in all.values where p.set == ObjectIdentifier(set) && p.hits.count == sum.count {
                for i in sum.indices { sum[i] &+= p.hits[i] }
            }
        }
        return sum
    }
}
