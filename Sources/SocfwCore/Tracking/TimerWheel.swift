/// The expiry wheel of a `FlowTable`: a hashed timing wheel (Varghese &
/// Lauck, "Hashed and Hierarchical Timing Wheels", 1987) whose lists are
/// intrusive, stored in two side arrays of `UInt32` links, so filing,
/// moving and unfiling an entry is O(1) and never allocates.
///
/// Nodes `0..<capacity` are the table's entries. Each wheel slot and the
/// pending list have a sentinel node after them, and every list is circular
/// through its sentinel, so unlinking a node needs neither the slot it is in
/// nor a special case for the head. An entry that is not on the wheel is on
/// the free list (singly linked through `next`, `prev == freeMark`), which
/// is how the table knows a slot is live without a flag of its own.
///
/// An entry due at tick `d` is filed in slot `d & mask`. One whose tick is
/// more than `size` ticks away shares that slot with nearer ones: when the
/// slot comes round early, `FlowTable.expire` sees the entry is not due and
/// files it again (lazily, as the Linux timer wheel does for far timers).
/// Ticks already passed are clamped to `nextTick`, so nothing is ever filed
/// behind the cursor.
///
/// Owned by one thread; no locks.
@usableFromInline
struct TimerWheel: Sendable {
    /// Slots on the wheel: 4,096 ticks, i.e. about 68 minutes at the default
    /// one-second resolution. Longer timeouts (TCP ESTABLISHED is 5 days)
    /// are re-filed once per revolution: 1M such flows cost ~250 visits/s.
    @usableFromInline static let size = 4096
    @usableFromInline static let none = UInt32.max
    /// `prev` of a node on the free list.
    @usableFromInline static let freeMark = UInt32.max - 1

    @usableFromInline var next: [UInt32]
    @usableFromInline var prev: [UInt32]
    @usableFromInline let capacity: Int
    @usableFromInline let resolutionNanoseconds: Int64
    /// The first tick whose slot has not been moved to the pending list yet.
    /// `Int64.min` until the first `start(now:)`.
    @usableFromInline var nextTick: Int64 = .min
    @usableFromInline var freeHead: UInt32 = TimerWheel.none

    init(capacity: Int, resolutionNanoseconds: Int64) {
        precondition(resolutionNanoseconds > 0, "timer resolution must be positive")
        self.capacity = capacity
        self.resolutionNanoseconds = resolutionNanoseconds
        let nodes = capacity + TimerWheel.size + 1
        // Sentinels point at themselves (empty lists); entry nodes are
        // neither filed nor free until the table hands them out.
        next = (0..<nodes).map { $0 < capacity ? TimerWheel.none : UInt32($0) }
        prev = next
    }

    /// The sentinel of the list of entries taken off the wheel and not yet visited.
    @inlinable var pendingSentinel: Int { capacity + TimerWheel.size }

    @inlinable func sentinel(ofTick tick: Int64) -> Int {
        capacity + (Int(truncatingIfNeeded: tick) & (TimerWheel.size - 1))
    }

    /// Floor division, so times before the clock's epoch still map to ticks in order.
    @inlinable func tick(of nanoseconds: Int64) -> Int64 {
        let q = nanoseconds / resolutionNanoseconds
        return nanoseconds < 0 && q * resolutionNanoseconds != nanoseconds ? q - 1 : q
    }

    @inlinable var isStarted: Bool { nextTick != .min }

    /// Sets the cursor on first use (the table has no clock until then).
    @inlinable mutating func start(now: Int64) {
        if nextTick == .min { nextTick = tick(of: now) }
    }

    // MARK: Lists

    @inlinable mutating func linkBefore(_ node: Int, _ anchor: Int) {
        let last = Int(prev[anchor])
        next[node] = UInt32(anchor)
        prev[node] = UInt32(last)
        next[last] = UInt32(node)
        prev[anchor] = UInt32(node)
    }

    @inlinable mutating func unlink(_ node: Int) {
        let n = Int(next[node])
        let p = Int(prev[node])
        next[p] = UInt32(n)
        prev[n] = UInt32(p)
    }

    /// Files entry `node` by its expiry time, at the tail of its slot.
    @inlinable mutating func file(_ node: Int, expiresAtNanoseconds: Int64) {
        linkBefore(node, sentinel(ofTick: max(tick(of: expiresAtNanoseconds), nextTick)))
    }

    /// Moves the whole list of slot `tick` to the tail of the pending list, O(1).
    @inlinable mutating func movePending(tick: Int64) {
        let s = sentinel(ofTick: tick)
        let first = Int(next[s])
        guard first != s else { return }
        let last = Int(prev[s])
        let p = pendingSentinel
        let pendingLast = Int(prev[p])
        next[pendingLast] = UInt32(first)
        prev[first] = UInt32(pendingLast)
        next[last] = UInt32(p)
        prev[p] = UInt32(last)
        next[s] = UInt32(s)
        prev[s] = UInt32(s)
    }

    /// The first entry on the pending list (still linked), nil when none is pending.
    @inlinable var firstPending: Int? {
        let p = pendingSentinel
        let first = Int(next[p])
        return first == p ? nil : first
    }

    // MARK: Free list

    @inlinable func isLive(_ node: Int) -> Bool {
        let p = prev[node]
        return p != TimerWheel.freeMark && p != TimerWheel.none
    }

    /// Puts an unlinked node on the free list.
    @inlinable mutating func pushFree(_ node: Int) {
        next[node] = freeHead
        prev[node] = TimerWheel.freeMark
        freeHead = UInt32(node)
    }

    @inlinable mutating func popFree() -> Int? {
        guard freeHead != TimerWheel.none else { return nil }
        let node = Int(freeHead)
        freeHead = next[node]
        return node
    }

    /// Bytes of the link arrays.
    var reservedBytes: Int { (next.capacity + prev.capacity) * MemoryLayout<UInt32>.stride }
}
