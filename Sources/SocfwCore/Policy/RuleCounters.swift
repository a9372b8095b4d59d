import Synchronization

/// Hits of one rule: packets, bytes and the time of the last one.
public struct RuleHit: Equatable, Sendable, Codable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Packet timestamp of the last hit, nanoseconds; 0 when never hit.
    public var lastHitNanoseconds: Int64 = 0

    public init(packets: UInt64 = 0, bytes: UInt64 = 0, lastHitNanoseconds: Int64 = 0) {
        self.packets = packets
        self.bytes = bytes
        self.lastHitNanoseconds = lastHitNanoseconds
    }

    public static func + (a: RuleHit, b: RuleHit) -> RuleHit {
        RuleHit(packets: a.packets &+ b.packets, bytes: a.bytes &+ b.bytes,
                lastHitNanoseconds: max(a.lastHitNanoseconds, b.lastHitNanoseconds))
    }
}

/// One thread's hit counters for the rules of one `RuleSet`, by rule index.
/// A raw buffer: counting a hit is three stores, with no reference counting
/// or copy-on-write check on the packet path.
///
/// `@unchecked Sendable`: only the owning worker writes and snapshots it;
/// other threads read it only after the worker handed it in (`retire`) and
/// stopped writing.
public final class RuleCounters: @unchecked Sendable {
    public let ruleSet: RuleSet
    private let hits: UnsafeMutableBufferPointer<RuleHit>

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        hits = .allocate(capacity: max(ruleSet.rules.count, 1))
        hits.initialize(repeating: RuleHit())
    }

    deinit { hits.deallocate() }

    @inline(__always)
    public func count(_ index: Int, bytes: Int, now: Int64) {
        hits[index].packets &+= 1
        hits[index].bytes &+= UInt64(bytes)
        hits[index].lastHitNanoseconds = now
    }

    public subscript(index: Int) -> RuleHit { hits[index] }

    /// A copy, by rule index.
    public func snapshot() -> [RuleHit] { Array(hits.prefix(ruleSet.rules.count)) }
}

/// Rule hits summed over the workers and kept across reloads by rule name.
///
/// Workers publish copies of their counters now and then (`publish`), and
/// hand them in for good when they switch to new rules (`retire`), which
/// folds them into per-name totals. Readers get, for the rules in force,
/// the retired totals of their name plus what every worker last published.
public final class RuleHitTotals: Sendable {
    private struct Published {
        var ruleSet: RuleSet
        var hits: [RuleHit]
    }

    private struct State {
        var retired: [String: RuleHit] = [:]
        var published: [Int: Published] = [:]
        /// Counters handed in by workers, folded later off the packet path
        /// (they also hold the last references to old rule sets, which are
        /// then freed there too, not on a worker).
        var pending: [(counters: RuleCounters, next: RuleSet)] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The latest counts of `worker` (replacing what it published before).
    public func publish(worker: Int, _ counters: RuleCounters) {
        let entry = Published(ruleSet: counters.ruleSet, hits: counters.snapshot())
        state.withLock { $0.published[worker] = entry }
    }

    /// `worker` stops counting for `counters.ruleSet` and starts on `next`.
    /// Constant time on the worker: the counts join the totals of their rule
    /// names later (`foldRetired`, called by readers and reloads).
    public func retire(worker: Int, _ counters: RuleCounters, next: RuleSet) {
        state.withLock { s in
            s.published[worker] = nil
            s.pending.append((counters, next))
        }
    }

    /// Folds retired counters into the per-name totals; names the newest
    /// rule set no longer has are forgotten.
    public func foldRetired() {
        let pending = state.withLock { s in
            defer { s.pending.removeAll() }
            return s.pending
        }
        guard let newest = pending.last?.next else { return }
        var folded: [String: RuleHit] = [:]
        for (counters, _) in pending {
            let rules = counters.ruleSet.rules
            for i in rules.indices where counters[i].packets > 0 {
                folded[rules[i].name, default: RuleHit()] = folded[rules[i].name, default: RuleHit()] + counters[i]
            }
        }
        let names = Set(newest.rules.map(\.name))
        state.withLock { s in
            s.retired.merge(folded) { $0 + $1 }
            s.retired = s.retired.filter { names.contains($0.key) }
        }
    }

    /// Totals for every rule of `ruleSet`, by rule index.
    public func totals(for ruleSet: RuleSet) -> [RuleHit] {
        foldRetired()
        return state.withLock { s in
            var byName = s.retired
            for p in s.published.values {
                for (i, h) in p.hits.enumerated() where h.packets > 0 {
                    byName[p.ruleSet.rules[i].name, default: RuleHit()] = byName[p.ruleSet.rules[i].name, default: RuleHit()] + h
                }
            }
            return ruleSet.rules.map { byName[$0.name] ?? RuleHit() }
        }
    }
}
