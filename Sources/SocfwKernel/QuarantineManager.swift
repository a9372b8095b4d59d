import Dispatch
import Foundation
import Logging
import SocfwCore
import SocfwStore
import SocfwWire
import Synchronization

/// Quarantine: the database is the source of truth, the kernel's interval
/// sets `quarantine4` / `quarantine6` (with per-element timeouts, so they
/// expire even while socfwd is down) enforce it before the queue.
///
/// Every change is checked by `QuarantinePolicy`, written to the database
/// (with an audit row) and then pushed to the kernel. At start, and whenever
/// targets overlap, the sets are reconciled with the active rows: missing
/// elements added first, strays removed after, the table never deleted.
/// All work runs on one serial queue; callers wait for their answer.
public final class QuarantineManager: Sendable {
    public let store: SocfwStore
    private let sets: NftSetClient?
    private let policyBox: Mutex<QuarantinePolicy>
    private var policy: QuarantinePolicy { policyBox.withLock { $0 } }
    private let logger: Logger
    private let queue = DispatchQueue(label: "socfw.quarantine")
    /// Active targets and their rows, as in the database (queue only).
    private let active = Mutex<[IPPrefix: QuarantineRecord]>([:])
    private let observer = Mutex<(@Sendable (String, QuarantineRecord) -> Void)?>(nil)
    /// Rule requests coalesced while one is pending (queue only).
    private let pendingRequests = Mutex<Set<IPAddress>>([])
    public let counters = Counters()

    public final class Counters: Sendable {
        public let added = Atomic<Int>(0)
        public let released = Atomic<Int>(0)
        public let expired = Atomic<Int>(0)
        public let refused = Atomic<Int>(0)
        public let kernelFailures = Atomic<Int>(0)
        public let reconciles = Atomic<Int>(0)
    }

    public static let setName = "quarantine"

    /// `sets` nil: database only (offline, tests without a kernel table).
    public init(store: SocfwStore, sets: NftSetClient?, policy: QuarantinePolicy, logger: Logger) {
        self.store = store
        self.sets = sets
        self.policyBox = Mutex(policy)
        self.logger = logger
    }

    /// Called after every change (`quarantine`, `release`, `expire`) with the row.
    public var onChange: (@Sendable (String, QuarantineRecord) -> Void)? {
        get { observer.withLock { $0 } }
        set { observer.withLock { $0 = newValue } }
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case refused(String)
        case store(String)

        public var description: String {
            switch self {
            case let .refused(m): return m
            case let .store(m): return "quarantine database: \(m)"
            }
        }
    }

    // MARK: Start and expiry

    /// Expires what ended while socfwd was down, loads the active rows and
    /// makes the kernel's sets match them. Returns what it changed.
    @discardableResult
    public func start() throws(Failure) -> (active: Int, added: Int, removed: Int) {
        let result = queue.sync { () -> Result<(Int, Int, Int), Failure> in
            do throws(StoreError) {
                let now = wallClockNanoseconds()
                for r in try store.expireQuarantines(now: now) { audit("expiry", "expire", r) }
                let rows = try store.activeQuarantines(now: now)
                var map: [IPPrefix: QuarantineRecord] = [:]
                for r in rows {
                    guard let p = IPPrefix(r.target, strict: true) else {
                        logger.error("quarantine row \(r.id) has a target that is not a prefix: '\(r.target)'; ignored")
                        continue
                    }
                    map[p] = r
                }
                active.withLock { $0 = map }
                let (added, removed) = reconcile(now: now)
                return .success((map.count, added, removed))
            } catch {
                return .failure(.store(error.description))
            }
        }
        return try result.get()
    }

    /// Seconds between full comparisons of the kernel's sets with the
    /// database (an element deleted behind socfwd's back comes back); one
    /// more second per 2,000 active entries.
    public static let reconcileIntervalSeconds: Int64 = 10
    private let lastReconcile = Atomic<Int64>(0)

    /// Ends the rows whose time is up (the kernel expires its elements by
    /// itself) and, every `reconcileIntervalSeconds`, repairs the kernel's
    /// sets; call about once a second.
    public func expire() {
        queue.async { [self] in
            let now = wallClockNanoseconds()
            // With many entries a full comparison costs more: do it less often.
            let interval = max(Self.reconcileIntervalSeconds, Int64(active.withLock { $0.count } / 2000))
            if now - lastReconcile.load(ordering: .relaxed) >= interval * 1_000_000_000 {
                lastReconcile.store(now, ordering: .relaxed)
                reconcile(now: now)
            }
            do {
                let now = wallClockNanoseconds()
                let ended = try store.expireQuarantines(now: now)
                guard !ended.isEmpty else { return }
                var overlapping = false
                active.withLock { a in
                    for r in ended {
                        guard let p = IPPrefix(r.target, strict: true) else { continue }
                        a[p] = nil
                        if a.keys.contains(where: { $0.overlaps(p) }) { overlapping = true }
                    }
                }
                counters.expired.add(ended.count, ordering: .relaxed)
                for r in ended {
                    audit("expiry", "expire", r)
                    onChange?("expired", r)
                }
                if overlapping { reconcile(now: now) }
            } catch {
                logger.error("quarantine expiry: \(error)")
            }
        }
    }

    // MARK: Quarantine and release

    /// A reloaded configuration's policy (allowlist, prefix limits,
    /// durations): for the quarantines that come after; those in force stay.
    public func updatePolicy(_ policy: QuarantinePolicy) {
        queue.sync { policyBox.withLock { $0 = policy } }
    }

    /// Quarantines `target`. `duration`: nil for the policy's (escalating)
    /// default, `.some(nil)` for permanent, `.some(seconds)`.
    public func quarantine(_ target: String, duration: Int64??, reason: String, source: QuarantineSource,
                           description: String?, actor: String) -> Result<QuarantineRecord, Failure> {
        queue.sync { add(target, duration: duration, reason: reason, source: source, description: description, actor: actor) }
    }

    /// Quarantines many targets at once (one database transaction, one
    /// kernel batch, one audit row listing them): bulk imports, blocklists.
    /// Targets that are refused or already quarantined are returned with the reason.
    public func quarantineMany(_ targets: [String], duration: Int64??, reason: String, source: QuarantineSource,
                               actor: String) -> Result<(added: [QuarantineRecord], refused: [(String, String)]), Failure> {
        queue.sync { () -> Result<(added: [QuarantineRecord], refused: [(String, String)]), Failure> in
            let now = wallClockNanoseconds()
            var refused: [(String, String)] = []
            var accepted: [(IPPrefix, QuarantineRecord)] = []
            var seen = Set<IPPrefix>()
            let current = active.withLock { $0 }
            for text in targets {
                switch policy.validate(text) {
                case let .failure(r):
                    refused.append((text, r.message))
                case let .success(prefix):
                    guard current[prefix] == nil, seen.insert(prefix).inserted else {
                        refused.append((text, "already quarantined"))
                        continue
                    }
                    let seconds = policy.duration(requestedSeconds: duration, priorOffences: 0)
                    let target = prefix.compactDescription
                    accepted.append((prefix, QuarantineRecord(
                        target: target, reason: reason, action: .drop, source: source, timestamp: now,
                        expires: policy.expiry(from: now, seconds: seconds, target: prefix))))
                }
            }
            counters.refused.add(refused.count, ordering: .relaxed)
            guard !accepted.isEmpty else { return .success(([], refused)) }
            // The kernel and the database at once (the batch's two big costs,
            // on two cores): the rows are written on another thread while this
            // one pushes the elements, and taken out again if the kernel is
            // not told. An element that overlaps one already in the sets
            // (EEXIST) is settled by a reconcile.
            let started = ContinuousClock.now
            let rows = Mutex<(Result<[Int64], StoreError>, Duration)?>(nil)
            let writing = DispatchGroup()
            let records = accepted.map(\.1)
            DispatchQueue.global(qos: .userInitiated).async(group: writing) { [store] in
                let t = ContinuousClock.now
                let result = Result { () throws(StoreError) in try store.insertQuarantines(records) }
                rows.withLock { $0 = (result, ContinuousClock.now - t) }
            }
            var pushed: [IPPrefix] = []
            var needsReconcile = false
            if let sets {
                let result = sets.add(accepted.map { ($0.0, timeoutMilliseconds: Self.remainingMilliseconds($0.1.expires, now: now)) },
                                      to: Self.setName)
                let failed = Set(result.failures.flatMap(\.prefixes))
                pushed = accepted.map(\.0).filter { !failed.contains($0) }
                needsReconcile = result.counters.overlap > 0
                if !result.succeeded && result.counters.overlap < result.failures.count {
                    counters.kernelFailures.add(1, ordering: .relaxed)
                    logger.error("quarantine batch: kernel set: \(result.failures.count) elements refused (\(result.failures.first?.reason ?? result.error?.description ?? "")); the next reconcile retries")
                }
            }
            let kernelTime = ContinuousClock.now - started
            writing.wait()
            let (inserted, databaseTime) = rows.withLock { $0! }
            do throws(StoreError) {
                let ids = try inserted.get()
                let records = accepted.indices.map { i in
                    var record = accepted[i].1
                    record.id = ids[i]
                    return record
                }
                try store.appendAudit(actor: actor, action: "quarantine-batch", details: JSONValue.object([
                    ("count", .int(Int64(records.count))), ("reason", .string(reason)),
                    ("targets", .array(records.map { .string($0.target) })),
                ]).serialized, at: now)
                active.withLock { a in
                    for (i, record) in records.enumerated() { a[accepted[i].0] = record }
                }
                counters.added.add(records.count, ordering: .relaxed)
                if needsReconcile { reconcile(now: now) }
                logger.notice("quarantined \(records.count) targets by \(actor): \(reason) (kernel \(Self.milliseconds(kernelTime)) ms, database \(Self.milliseconds(databaseTime)) ms, in all \(Self.milliseconds(ContinuousClock.now - started)) ms)")
                return .success((records, refused))
            } catch {
                // Rows written but not audited go too: the batch is one thing.
                if case let .success(ids) = inserted { try? store.deleteQuarantines(ids: ids) }
                // Not recorded: not enforced either.
                if let sets, !pushed.isEmpty { _ = sets.delete(pushed, from: Self.setName) }
                return .failure(.store(error.description))
            }
        }
    }

    /// Quarantines `address` in the background (rules, detectors): the
    /// packet path never waits for the database or the kernel. `seconds`:
    /// nil for the policy's (escalating) duration. Repeats while one is
    /// pending, and addresses already covered, are ignored.
    public func request(_ address: IPAddress, reason: String, source: QuarantineSource, actor: String, seconds: Int64?) {
        let fresh = pendingRequests.withLock { $0.insert(address).inserted }
        guard fresh else { return }
        queue.async { [self] in
            _ = pendingRequests.withLock { $0.remove(address) }
            let prefix = IPPrefix(network: address, length: address.bitWidth)
            let covered = active.withLock { a in a.keys.contains { $0.contains(address) } }
            guard !covered else { return }
            let duration: Int64?? = seconds.map { .some($0) } ?? nil
            switch add("\(prefix.network)", duration: duration, reason: reason, source: source, description: nil,
                       actor: actor) {
            case .success: break
            case let .failure(f):
                logger.warning("\(actor) asked to quarantine \(address): \(f)")
            }
        }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    private func add(_ text: String, duration: Int64??, reason: String, source: QuarantineSource, description: String?,
                     actor: String) -> Result<QuarantineRecord, Failure> {
        let prefix: IPPrefix
        switch policy.validate(text) {
        case let .failure(r):
            counters.refused.add(1, ordering: .relaxed)
            return .failure(.refused(r.message))
        case let .success(p): prefix = p
        }
        let target = prefix.compactDescription
        if let existing = active.withLock({ $0[prefix] }) {
            let until = existing.expires.map { " until \(Self.time($0))" } ?? " permanently"
            return .failure(.refused("\(target) is already quarantined\(until) (\(existing.reason)); release it first to change that"))
        }
        let now = wallClockNanoseconds()
        do throws(StoreError) {
            let prior = try store.offenceCount(target: target, since: now - policy.escalationWindowSeconds * 1_000_000_000)
            let seconds = policy.duration(requestedSeconds: duration, priorOffences: prior)
            let expires = policy.expiry(from: now, seconds: seconds, target: prefix)
            var record = QuarantineRecord(target: target, reason: reason, action: .drop, source: source, timestamp: now,
                                          expires: expires, description: description, offence: prior + 1)
            // The kernel first: that is when traffic stops. Overlapping an
            // element already in the sets (EEXIST) is settled by a reconcile.
            var pushed = false
            var needsReconcile = false
            if let sets {
                let result = sets.add([(prefix, timeoutMilliseconds: Self.remainingMilliseconds(expires, now: now))],
                                      to: Self.setName)
                pushed = result.succeeded
                needsReconcile = result.counters.overlap > 0
                if !result.succeeded && !needsReconcile {
                    counters.kernelFailures.add(1, ordering: .relaxed)
                    logger.error("quarantine \(target): kernel set not updated: \(result.failures.first?.reason ?? result.error?.description ?? "unknown"); the database has it, the next reconcile retries")
                }
            }
            do {
                record.id = try store.insertQuarantine(record)
            } catch {
                // Not recorded: not enforced either.
                if let sets, pushed { _ = sets.delete([prefix], from: Self.setName) }
                throw error
            }
            active.withLock { $0[prefix] = record }
            audit(actor, "quarantine", record)
            counters.added.add(1, ordering: .relaxed)
            if needsReconcile { reconcile(now: now) }
            logger.notice("quarantined \(target) \(seconds.map { "for \($0) s" } ?? "permanently") by \(actor): \(reason)")
            onChange?("quarantined", record)
            return .success(record)
        } catch {
            return .failure(.store(error.description))
        }
    }

    /// Releases the active quarantine of `target` (exactly that address or prefix).
    public func release(_ text: String, actor: String) -> Result<QuarantineRecord, Failure> {
        queue.sync { () -> Result<QuarantineRecord, Failure> in
            guard let prefix = IPPrefix(text, strict: true) ?? IPAddress(text).map({ IPPrefix(network: $0, length: $0.bitWidth) }),
                  let record = active.withLock({ $0[prefix] }) else {
                return .failure(.refused("'\(text)' is not quarantined (socfwctl quarantine ls shows what is)"))
            }
            do throws(StoreError) {
                guard var released = try store.release(id: record.id, by: actor, at: wallClockNanoseconds()) else {
                    return .failure(.refused("'\(text)' was released already"))
                }
                released.active = false
                let overlapping = active.withLock { a -> Bool in
                    a[prefix] = nil
                    return a.keys.contains { $0.overlaps(prefix) }
                }
                audit(actor, "release", released)
                counters.released.add(1, ordering: .relaxed)
                if overlapping {
                    reconcile(now: wallClockNanoseconds())
                } else if let sets {
                    let result = sets.delete([prefix], from: Self.setName)
                    if !result.succeeded {
                        counters.kernelFailures.add(1, ordering: .relaxed)
                        logger.error("release \(text): kernel set not updated: \(result.failures.first?.reason ?? result.error?.description ?? "unknown")")
                    }
                }
                logger.notice("released \(record.target) by \(actor)")
                onChange?("released", released)
                return .success(released)
            } catch {
                return .failure(.store(error.description))
            }
        }
    }

    /// Active quarantines, newest first.
    public func list() -> [QuarantineRecord] {
        active.withLock { Array($0.values) }.sorted { $0.timestamp > $1.timestamp }
    }

    public func history(target: String?, limit: Int) -> Result<[QuarantineRecord], Failure> {
        do throws(StoreError) {
            return .success(try store.quarantineHistory(target: target, limit: limit))
        } catch {
            return .failure(.store(error.description))
        }
    }

    // MARK: Kernel

    /// Makes the kernel's sets hold exactly the active targets (targets
    /// inside another active one are covered by it). Adds before it removes.
    @discardableResult
    private func reconcile(now: Int64) -> (added: Int, removed: Int) {
        guard let sets else { return (0, 0) }
        counters.reconciles.add(1, ordering: .relaxed)
        let wanted = Self.kernelTargets(active.withLock { $0 })
        let current: [NftSetElement]
        do {
            current = try sets.list(Self.setName)
        } catch {
            counters.kernelFailures.add(1, ordering: .relaxed)
            logger.error("quarantine reconcile: cannot list the kernel sets: \(error)")
            return (0, 0)
        }
        let present = Set(current.map(\.prefix))
        let missing = wanted.filter { !present.contains($0.key) }
        let strays = present.filter { wanted[$0] == nil }
        // Strays that overlap a missing target must go first (an interval set
        // holds no overlapping ranges); the others after the adds.
        let blocking = strays.filter { s in missing.keys.contains { $0.overlaps(s) } }
        if !blocking.isEmpty { report(sets.delete(Array(blocking), from: Self.setName), "remove") }
        if !missing.isEmpty {
            report(sets.add(missing.map { ($0.key, timeoutMilliseconds: Self.remainingMilliseconds($0.value, now: now)) },
                            to: Self.setName), "add")
        }
        let rest = strays.subtracting(blocking)
        if !rest.isEmpty { report(sets.delete(Array(rest), from: Self.setName), "remove") }
        if !missing.isEmpty || !strays.isEmpty {
            logger.notice("quarantine sets reconciled with the database: \(missing.count) added, \(strays.count) removed")
        }
        return (missing.count, strays.count)
    }

    private func report(_ result: NftSetResult, _ what: String) {
        guard !result.succeeded else { return }
        counters.kernelFailures.add(1, ordering: .relaxed)
        logger.error("quarantine reconcile (\(what)): \(result.failures.map(\.description).prefix(5).joined(separator: "; ")) \(result.error?.description ?? "")")
    }

    /// What the kernel's sets should hold for these active rows: the
    /// outermost targets (an interval set holds no overlapping ranges), each
    /// with the latest expiry of any target inside it (nil: permanent).
    public static func kernelTargets(_ rows: [IPPrefix: QuarantineRecord]) -> [IPPrefix: Int64?] {
        var wanted: [IPPrefix: Int64?] = [:]
        let index = PrefixOverlapIndex(Array(rows.keys))
        for (p, r) in rows where !index.hasContainer(p) {
            var expires = r.expires
            for q in index.contained(in: p) {
                guard let inner = rows[q] else { continue }
                if inner.expires == nil { expires = nil } else if let e = expires, let i = inner.expires { expires = max(e, i) }
            }
            wanted[p] = expires
        }
        return wanted
    }

    /// The elements to create the sets with at start, from the database, so
    /// that reinstalling the table never lets a quarantined host through.
    public static func initialElements(store: SocfwStore, logger: Logger) -> [(IPPrefix, timeoutMilliseconds: UInt64?)] {
        let now = wallClockNanoseconds()
        do {
            var rows: [IPPrefix: QuarantineRecord] = [:]
            for r in try store.activeQuarantines(now: now) {
                if let p = IPPrefix(r.target, strict: true) { rows[p] = r }
            }
            return kernelTargets(rows).map { ($0.key, timeoutMilliseconds: remainingMilliseconds($0.value, now: now)) }
        } catch {
            logger.error("quarantine: cannot read the active quarantines before installing the table: \(error)")
            return []
        }
    }

    static func remainingMilliseconds(_ expires: Int64?, now: Int64) -> UInt64? {
        guard let expires else { return nil }
        return UInt64(max(1000, (expires - now) / 1_000_000))
    }

    static func time(_ ns: Int64) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: Double(ns) / 1e9))
    }

    // MARK: Audit

    private func audit(_ actor: String, _ action: String, _ r: QuarantineRecord) {
        var details: [(String, JSONValue)] = [("id", .int(r.id)), ("target", .string(r.target)), ("reason", .string(r.reason)),
                                              ("source", .string(r.source.rawValue))]
        if let e = r.expires { details.append(("expires_ns", .int(e))) }
        if let d = r.description { details.append(("description", .string(d))) }
        do {
            try store.appendAudit(actor: actor, action: action, details: JSONValue.object(details).serialized,
                                  at: wallClockNanoseconds())
        } catch {
            logger.error("audit log: \(error)")
        }
    }

    /// Appends an audit row for something outside quarantine (rules changes, reloads).
    public func audit(actor: String, action: String, details: JSONValue) {
        queue.async { [self] in
            do {
                try store.appendAudit(actor: actor, action: action, details: details.serialized, at: wallClockNanoseconds())
            } catch {
                logger.error("audit log: \(error)")
            }
        }
    }

    /// Waits until queued work is done (tests, shutdown).
    public func drain() { queue.sync {} }
}

extension QuarantineRecord {
    /// The record as the control protocol shows it.
    public var json: JSONValue {
        .object([
            ("id", .int(id)), ("target", .string(target)), ("reason", .string(reason)), ("action", .string(action.rawValue)),
            ("source", .string(source.rawValue)), ("timestamp_ns", .int(timestamp)),
            ("expires_ns", expires.map { .int($0) } ?? .null), ("description", description.map { .string($0) } ?? .null),
            ("active", .bool(active)), ("released_at_ns", releasedAt.map { .int($0) } ?? .null),
            ("released_by", releasedBy.map { .string($0) } ?? .null), ("offence", .int(Int64(offence))),
        ])
    }
}

/// Answers "does this prefix overlap another one of the set?" in
/// O(prefix length + log n): prefixes either nest or are disjoint, so an
/// overlapping one either contains it (a shorter prefix of its address) or
/// starts inside it.
struct PrefixOverlapIndex {
    private let members: Set<IPPrefix>
    /// Networks sorted by (family, address).
    private let starts: [IPPrefix]

    init(_ prefixes: [IPPrefix]) {
        members = Set(prefixes)
        starts = prefixes.sorted { Self.key($0.network) < Self.key($1.network) }
    }

    static func key(_ a: IPAddress) -> (UInt8, UInt64, UInt64) { (a.isV6 ? 1 : 0, a.high, a.low) }

    func overlapsAnother(_ p: IPPrefix) -> Bool {
        hasContainer(p) || contained(in: p).contains { $0 != p }
    }

    /// A shorter member contains `p`.
    func hasContainer(_ p: IPPrefix) -> Bool {
        for length in 0..<p.length where members.contains(IPPrefix(network: p.network.masked(to: length), length: length)) {
            return true
        }
        return false
    }

    /// The members inside `p` (`p` itself included when it is one).
    func contained(in p: IPPrefix) -> [IPPrefix] {
        // The first member starting at or after p's network.
        var lo = 0, hi = starts.count
        let k = Self.key(p.network)
        while lo < hi {
            let mid = (lo + hi) / 2
            if Self.key(starts[mid].network) < k { lo = mid + 1 } else { hi = mid }
        }
        var out: [IPPrefix] = []
        var i = lo
        while i < starts.count, starts[i].network.isV6 == p.network.isV6, p.contains(starts[i].network) {
            if starts[i].length >= p.length { out.append(starts[i]) }
            i += 1
        }
        return out
    }
}
