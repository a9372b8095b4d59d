import SocfwWire

// The connection table of one queue worker.
//
// Requirements: a million live connections in at most 150 MB resident (the
// whole process), fast lookups, no allocation per packet, expiry that never
// sweeps the table in one go. Owned by one thread, so there are no locks.
//
// Layout (all reserved at init from `capacity`, never grown), per connection:
//
//   entries  [Entry], dense, free list              MemoryLayout<Entry>.stride
//   index    Robin Hood, UInt32 slots, 1.25 x capacity       5 bytes
//            (FlowTableIndex.swift)
//   wheel    next/prev UInt32 links per entry                 8 bytes
//            (TimerWheel.swift; also the free list and the "live" mark)
//   sources  only with a per-source limit: Robin Hood,
//            UInt64 slots, 1.11 x capacity                  8.9 bytes
//            (FlowTableSourceCounts.swift)
//
// so 13 bytes on top of the entry, 22 with a per-source limit. Measured
// (`socfw-bench conntrack`, 112-byte entries, one million flows): ~137.5 MiB
// resident for the whole process without a per-source limit, ~146.5 MiB
// with one; ~16.5 MiB of that is the process before the table (Foundation
// and ICU libraries). Each 8 bytes of entry adds 7.6 MiB at a million flows.
//
// Why this shape:
// - Entries are stored once, densely, addressed by Int32 index, so the
//   tracker keeps an index across calls and updates an entry in place
//   (`withEntry`), with no copy out and back.
// - The index is separate from the entries and small: a 32-bit slot holds
//   the entry index, the displacement from the home slot and a few hash
//   bits. A hit reads one index line and one entry; a miss usually reads
//   the index line only. A `Dictionary<FlowKey, Int32>` stores 48-byte keys
//   in its buckets: ~110 bytes per flow for the index alone, and slower.
// - A 4-byte slot has no room for the hash, which backward-shift deletion
//   under plain linear probing needs for every entry it moves (an entry
//   read, a cache miss, each); Robin Hood order with the displacement in
//   the slot shifts back without looking at any entry.
// - At a million flows a random lookup costs a DRAM round trip for the
//   entry (and often one for the index): ~200 ns one at a time on the
//   2-vCPU bench VM, where a dependent load beyond ~8 MB takes ~165 ns
//   (a Dictionary: ~260 ns). `find(_:hashes:into:)` overlaps the misses of
//   a batch (~85 ns); a table that fits the cache answers in ~45 ns (~35 ns
//   batched).
// - Expiry is a hashed timing wheel with intrusive lists in side arrays:
//   O(1) to file, move and unfile; `expire` visits at most `budget` entries
//   per call and resumes where it stopped. A flow whose expiry moved later
//   stays where it is and is re-filed when its old slot comes round, so the
//   packet path touches the wheel only when a timeout shrinks (`reschedule`).
// - A per-table seed is mixed into homes, so which keys share a probe run
//   cannot be computed from `FlowKey.hash` alone. Keys with the same 64-bit
//   `FlowKey.hash` still share a run (that hash is not keyed); the 6-bit
//   displacement bounds such a run at 64 entries, after which inserts near
//   it are refused as full rather than every lookup there slowing down.

/// What the table needs from an entry. The tracker's `Connection` conforms.
public protocol FlowTableEntry {
    /// The flow's identity; must not change while the entry is in a table.
    var key: FlowKey { get }
    /// Absolute time (ns, same clock as the table's `now`) at and after
    /// which the entry is expired (as Linux's `nf_ct_is_expired`).
    var expiresAtNanoseconds: Int64 { get }
    /// When the flow last saw a packet; early drop evicts the oldest.
    var lastSeenNanoseconds: Int64 { get }
    /// May be evicted when the table is full (Linux early_drop: flows not
    /// yet ASSURED / never replied).
    var isEarlyDroppable: Bool { get }
    /// The address counted against the per-source limit (the flow's
    /// initiator); must not change while the entry is in a table.
    var sourceAddress: IPAddress { get }
}

/// The outcome of `FlowTable.insert`.
public enum FlowInsertResult: Equatable, Sendable {
    /// Inserted at `index`.
    case inserted(index: Int32)
    /// An old droppable entry was evicted to make room.
    case insertedAfterEarlyDrop(index: Int32)
    /// The table is full and nothing near the new key's slot may be dropped.
    case tableFull
    /// The source already has `perSourceLimit` flows.
    case sourceLimit
}

/// Counters of a `FlowTable`, since it was created.
public struct FlowTableStats: Equatable, Sendable {
    /// Live entries.
    public var count = 0
    /// Successful inserts (with or without an early drop).
    public var inserted = 0
    /// Entries taken out with `remove`.
    public var removed = 0
    /// Entries taken out by `expire`.
    public var expired = 0
    /// Entries evicted to make room for a new one.
    public var earlyDropped = 0
    /// Inserts refused with `.tableFull`.
    public var insertFailedFull = 0
    /// Inserts refused with `.sourceLimit`.
    public var insertFailedSourceLimit = 0

    public init() {}
}

/// A fixed-capacity table of flows keyed by `FlowKey`, with expiry, early
/// drop and a per-source limit. See the comment at the top of this file.
///
/// Entries are addressed by `Int32` index, valid from `insert` until the
/// entry is removed, expired or evicted; `subscript` and `withEntry` must
/// only be given such an index (a stale one reads a stale entry; it is
/// never unsafe). A removed entry's value stays in its slot until the slot
/// is reused, so an `Entry` holding references keeps them alive that long.
///
/// Owned by one thread (a queue worker); no locks. Do not copy a filled
/// table: its arrays are copy-on-write, and a copy duplicates them all.
public struct FlowTable<Entry: FlowTableEntry> {
    @usableFromInline var entries: [Entry]
    @usableFromInline var index: FlowIndex
    @usableFromInline var wheel: TimerWheel
    @usableFromInline var sources: SourceCounts?
    @usableFromInline var counters = FlowTableStats()
    @usableFromInline var liveCount = 0
    /// The most entries the table holds (`max_connections` per worker).
    public let capacity: Int
    /// Flows one source may have; 0 when unlimited.
    public let perSourceLimit: Int

    /// Reserves all the table's memory.
    ///
    /// - Parameters:
    ///   - capacity: the most live entries, 1...2^24.
    ///   - perSourceLimit: the most live entries with the same `sourceAddress`;
    ///     0 (or anything not below `capacity`) is unlimited and keeps no counts.
    ///   - timerResolutionNanoseconds: the expiry wheel's tick. Entries expire
    ///     in the first `expire` call after the tick holding their
    ///     `expiresAtNanoseconds` has passed: at most one tick late.
    ///   - hashSeed: mixed into every hash; random unless a test needs a
    ///     reproducible layout.
    public init(capacity: Int, perSourceLimit: Int, timerResolutionNanoseconds: Int64 = 1_000_000_000,
                hashSeed: UInt64 = .random(in: .min ... .max)) {
        precondition(capacity > 0 && capacity <= 1 << 24, "FlowTable capacity must be 1...16,777,216")
        precondition(perSourceLimit >= 0, "FlowTable perSourceLimit must not be negative")
        self.capacity = capacity
        let limited = perSourceLimit > 0 && perSourceLimit < capacity
        self.perSourceLimit = limited ? perSourceLimit : 0
        entries = []
        entries.reserveCapacity(capacity)
        index = FlowIndex(capacity: capacity, seed: hashSeed)
        wheel = TimerWheel(capacity: capacity, resolutionNanoseconds: timerResolutionNanoseconds)
        sources = limited
            ? SourceCounts(capacity: capacity, limit: perSourceLimit, seed: FlowIndex.mix(hashSeed ^ 0x736f_7572_6365))
            : nil
    }

    /// Live entries.
    public var count: Int { liveCount }

    /// Counters since the table was created, with the live `count`.
    public var stats: FlowTableStats {
        var s = counters
        s.count = liveCount
        return s
    }

    /// Bytes reserved at init for entries, index, wheel and source counts.
    public var reservedBytes: Int {
        entries.capacity * MemoryLayout<Entry>.stride + index.reservedBytes + wheel.reservedBytes
            + (sources?.reservedBytes ?? 0)
    }

    /// Live flows whose `sourceAddress` is `address` (0 when the table has no per-source limit).
    public func sourceCount(_ address: IPAddress) -> Int {
        sources?.count(of: address) ?? 0
    }

    // MARK: Lookup

    /// The index of the entry with `key`, nil if absent.
    @inlinable
    public func find(_ key: FlowKey) -> Int32? {
        find(key, hash: key.hash)
    }

    /// The index of the entry with `key`, whose `FlowKey.hash` the caller already has.
    @inlinable
    public func find(_ key: FlowKey, hash: UInt64) -> Int32? {
        index.find(hash) { entries[Int($0)].key == key }
    }

    /// A copy of a live entry.
    @inlinable
    public subscript(index: Int32) -> Entry {
        entries[Int(index)]
    }

    /// In-place access to a live entry. After moving its expiry earlier,
    /// call `reschedule`; a later expiry needs nothing.
    @inlinable
    public mutating func withEntry<R>(_ index: Int32, _ body: (inout Entry) -> R) -> R {
        body(&entries[Int(index)])
    }

    /// Calls `body` with every live entry, in index order. Not for the packet path.
    public func forEach(_ body: (Int32, Entry) -> Void) {
        for i in 0..<entries.count where wheel.isLive(i) {
            body(Int32(i), entries[i])
        }
    }

    /// Updates every live entry in place. Not for the packet path.
    public mutating func updateAll(_ body: (inout Entry) -> Void) {
        for i in 0..<entries.count where wheel.isLive(i) { body(&entries[i]) }
    }

    // MARK: Insert and remove

    /// Inserts a new entry (the caller checked its key is absent) and files
    /// it on the expiry wheel by its `expiresAtNanoseconds`.
    @inlinable
    public mutating func insert(_ entry: Entry, now: Int64) -> FlowInsertResult {
        insert(entry, now: now, onEvict: { _ in })
    }

    /// `insert`, handing an entry evicted to make room (early drop) to
    /// `onEvict` once it is out of the table.
    @inlinable
    public mutating func insert(_ entry: Entry, now: Int64, onEvict: (Entry) -> Void) -> FlowInsertResult {
        wheel.start(now: now)
        let hash = entry.key.hash
        assert(find(entry.key, hash: hash) == nil, "FlowTable.insert: the key is already in the table")
        if sources != nil {
            switch sources!.acquire(entry.sourceAddress) {
            case .counted:
                break
            case .atLimit, .noRoom:
                counters.insertFailedSourceLimit += 1
                return .sourceLimit
            }
        }
        var evicted = false
        if liveCount == capacity {
            guard evictNear(hash, onEvict: onEvict) else { return refuseFull(entry) }
            evicted = true
        }
        while !index.insert(nextFreeIndex, hash: hash) {
            // Only when a run near the home has reached the longest
            // displacement: freeing an entry there is the only way in.
            guard !evicted, evictNear(hash, onEvict: onEvict) else { return refuseFull(entry) }
            evicted = true
        }
        let i: Int
        if let reused = wheel.popFree() {
            i = reused
            entries[i] = entry
        } else {
            i = entries.count
            entries.append(entry)
        }
        wheel.file(i, expiresAtNanoseconds: entry.expiresAtNanoseconds)
        liveCount += 1
        counters.inserted += 1
        return evicted ? .insertedAfterEarlyDrop(index: Int32(i)) : .inserted(index: Int32(i))
    }

    /// Takes a live entry out of the table and returns it.
    @inlinable
    @discardableResult
    public mutating func remove(_ index: Int32) -> Entry {
        precondition(wheel.isLive(Int(index)), "FlowTable.remove: not a live entry")
        counters.removed += 1
        return detach(index)
    }

    /// The index the next insert will use: the most recently freed one, else
    /// the first never used.
    @inlinable var nextFreeIndex: Int32 {
        Int32(wheel.freeHead != TimerWheel.none ? Int(wheel.freeHead) : entries.count)
    }

    @inlinable mutating func refuseFull(_ entry: Entry) -> FlowInsertResult {
        if sources != nil { sources!.release(entry.sourceAddress) }
        counters.insertFailedFull += 1
        return .tableFull
    }

    /// Unfiles a live entry from the index, the wheel and the source counts
    /// and frees its slot.
    @inlinable mutating func detach(_ i: Int32) -> Entry {
        let entry = entries[Int(i)]
        index.remove(i, hash: entry.key.hash)
        if sources != nil { sources!.release(entry.sourceAddress) }
        wheel.unlink(Int(i))
        wheel.pushFree(Int(i))
        liveCount -= 1
        return entry
    }

    /// Early drop (Linux `early_drop`): evicts, among the entries filed near
    /// the home of `hash`, the droppable one seen longest ago. Looking only
    /// nearby keeps the cost of a full table bounded per insert.
    @inlinable mutating func evictNear(_ hash: UInt64, onEvict: (Entry) -> Void) -> Bool {
        var victim: Int32 = -1
        var oldest = Int64.max
        index.forEachNear(hash) { e in
            let candidate = Int(e)
            if entries[candidate].isEarlyDroppable {
                let seen = entries[candidate].lastSeenNanoseconds
                if victim < 0 || seen < oldest {
                    victim = e
                    oldest = seen
                }
            }
        }
        guard victim >= 0 else { return false }
        let dropped = detach(victim)
        counters.earlyDropped += 1
        onEvict(dropped)
        return true
    }
}

extension FlowTable: Sendable where Entry: Sendable {}
