/// Finds, for an address, every indexed prefix that contains it.
///
/// The prefixes (which either nest or are disjoint) cut the address space
/// into elementary intervals; each interval stores the innermost prefix
/// covering it, and each prefix its enclosing one. A lookup finds the
/// interval (a direct table over the span the prefixes cover, then a branch-free binary
/// search inside that block, which holds a handful of intervals) and walks
/// up the (at most 33 or 129 long, in practice a few) chain of enclosing
/// prefixes. The cost hardly depends on how many prefixes there are.
final class AddressIndex<Key: FixedWidthInteger & UnsignedInteger>: @unchecked Sendable {
    // @unchecked: written once in init, read-only afterwards, freed in deinit.

    /// Sorted interval starts (`intervals[0].start == 0`), each with the
    /// innermost prefix covering the interval (-1 for none): side by side,
    /// so the answer is on the cache line the search ends on.
    private let intervals: UnsafeBufferPointer<Interval>

    struct Interval {
        var start: Key
        var owner: Int32
    }
    /// Per prefix: enclosing prefix and candidate list, in one cache line.
    let prefixes: UnsafeBufferPointer<Prefix>
    /// For each block of keys, the first interval to search; empty when the
    /// intervals are few or crowd into a few blocks.
    private let block: UnsafeBufferPointer<Int32>
    private let blockShift: Key
    /// The table covers keys in blockBase..<blockTop.
    private let blockBase: Key
    private let blockTop: Key

    struct Prefix {
        /// Enclosing prefix, -1 for none.
        var parent: Int32
        /// The candidate list: a slice of the rule set's pool.
        var listStart: Int32
        var listEnd: Int32
    }
    /// Longest chain of nested prefixes.
    let maxDepth: Int

    var isEmpty: Bool { prefixes.isEmpty }

    /// `entries`: (first address, last address, pool slice) per distinct
    /// prefix, in any order.
    init(prefixes entries: [(first: Key, last: Key, listStart: Int32, listEnd: Int32)]) {
        // Outer prefixes before the ones they contain.
        let sorted = entries.sorted { ($0.first, ~$0.last) < ($1.first, ~$1.last) }
        var parents = [Int32](repeating: -1, count: sorted.count)
        var stack: [Int32] = []
        var starts: [Key] = []
        var owner: [Int32] = []
        var depth = 0

        func boundary(_ key: Key, _ who: Int32) {
            if let last = starts.last, last == key {
                owner[owner.count - 1] = who
            } else if owner.last != who || starts.isEmpty {
                starts.append(key)
                owner.append(who)
            }
        }
        func close(before key: Key?) {
            while let top = stack.last, key == nil || sorted[Int(top)].last < key! {
                stack.removeLast()
                let end = sorted[Int(top)].last
                if end != Key.max { boundary(end + 1, stack.last ?? -1) }
            }
        }
        boundary(0, -1)
        for (i, e) in sorted.enumerated() {
            close(before: e.first)
            parents[i] = stack.last ?? -1
            stack.append(Int32(i))
            depth = max(depth, stack.count)
            boundary(e.first, Int32(i))
        }
        close(before: nil)

        // A direct table over the span the intervals occupy (from the first
        // prefix to the end of the last): about two intervals per block.
        var blockFirst: [Int32] = []
        var base: Key = 0
        var top: Key = 0
        var shift: Key = 0
        if starts.count > 32 {
            var bits = 0
            while bits < 16 && (1 << bits) < starts.count / 2 { bits += 1 }
            base = starts[1]
            top = starts[starts.count - 1]
            let spanBits = Key.bitWidth - (top - base).leadingZeroBitCount
            shift = Key(max(0, spanBits - bits))
            let blocks = Int((top - base) >> shift) + 1
            blockFirst.reserveCapacity(blocks + 1)
            var i = 0
            var largest = 0
            var previous = 0
            for b in 0..<blocks {
                let blockStart = base + Key(b) << shift
                while i + 1 < starts.count && starts[i + 1] <= blockStart { i += 1 }
                blockFirst.append(Int32(i))
                if b > 0 { largest = max(largest, i - previous) }
                previous = i
            }
            largest = max(largest, starts.count - previous)
            blockFirst.append(Int32(starts.count - 1))
            if largest > starts.count / 4 { blockFirst = [] }
        }
        self.intervals = frozenCopy(starts.indices.map { Interval(start: starts[$0], owner: owner[$0]) })
        self.prefixes = frozenCopy(sorted.indices.map {
            Prefix(parent: parents[$0], listStart: sorted[$0].listStart, listEnd: sorted[$0].listEnd)
        })
        self.block = frozenCopy(blockFirst)
        self.blockShift = shift
        self.blockBase = base
        self.blockTop = top
        self.maxDepth = depth
    }

    deinit {
        intervals.deallocate(); prefixes.deallocate(); block.deallocate()
    }

    /// The innermost prefix containing `key`, -1 for none; continue with `parent`.
    @inline(__always)
    func innermost(_ key: Key) -> Int32 {
        var lo = 0
        var n = intervals.count
        if !block.isEmpty {
            if key < blockBase {
                return intervals[0].owner
            } else if key >= blockTop {
                return intervals[intervals.count - 1].owner
            }
            let b = Int(truncatingIfNeeded: (key &- blockBase) >> blockShift)
            lo = Int(block[b])
            n = Int(block[b + 1]) - lo + 1
        }
        // Branch-free: the comparison becomes a mask, not a jump, so the
        // search never mispredicts (the intervals fit the L1/L2 cache).
        while n > 1 {
            let half = n &>> 1
            let below = unsafeBitCast(intervals[lo &+ half].start <= key, to: UInt8.self)
            lo &+= half & (0 &- Int(below))
            n &-= half
        }
        return intervals[lo].owner
    }
}
