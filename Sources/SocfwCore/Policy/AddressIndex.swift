/// Finds, for an address, every indexed prefix that contains it, in
/// O(log n) plus the number of such prefixes.
///
/// The prefixes (which either nest or are disjoint) cut the address space
/// into elementary intervals; each interval stores the innermost prefix
/// covering it, and each prefix its enclosing one. A lookup is one binary
/// search over the interval starts and a walk up the (at most 33 or 129
/// long, in practice a few) chain of enclosing prefixes.
struct AddressIndex<Key: FixedWidthInteger & UnsignedInteger> {
    /// Sorted interval starts; `starts[0] == 0`.
    private(set) var starts: [Key] = [0]
    /// Innermost prefix covering each interval, -1 for none.
    private(set) var owner: [Int32] = [-1]
    /// Enclosing prefix of each prefix, -1 for none.
    private(set) var parent: [Int32] = []
    /// The candidate list of each prefix: a slice of the shared pool.
    private(set) var listStart: [Int32] = []
    private(set) var listEnd: [Int32] = []
    /// Longest chain of nested prefixes.
    private(set) var maxDepth = 0

    var isEmpty: Bool { parent.isEmpty }

    /// `entries`: (first address, last address, pool slice) per distinct
    /// prefix, in any order.
    init(prefixes entries: [(first: Key, last: Key, listStart: Int32, listEnd: Int32)]) {
        guard !entries.isEmpty else { return }
        // Outer prefixes before the ones they contain.
        let sorted = entries.sorted { ($0.first, ~$0.last) < ($1.first, ~$1.last) }
        parent = Array(repeating: -1, count: sorted.count)
        listStart = sorted.map(\.listStart)
        listEnd = sorted.map(\.listEnd)
        var stack: [Int32] = []
        starts = []
        owner = []

        func boundary(_ key: Key, _ who: Int32) {
            if let last = starts.last, last == key {
                owner[owner.count - 1] = who
            } else if owner.last != who || starts.isEmpty {
                starts.append(key)
                owner.append(who)
            }
        }
        boundary(0, -1)
        func close(before key: Key?) {
            while let top = stack.last, key == nil || sorted[Int(top)].last < key! {
                stack.removeLast()
                let end = sorted[Int(top)].last
                if end != Key.max { boundary(end + 1, stack.last ?? -1) }
            }
        }
        for (i, e) in sorted.enumerated() {
            close(before: e.first)
            parent[i] = stack.last ?? -1
            stack.append(Int32(i))
            maxDepth = max(maxDepth, stack.count)
            boundary(e.first, Int32(i))
        }
        close(before: nil)
    }

    /// The innermost prefix containing `key`, -1 for none; continue with `parent`.
    @inline(__always)
    func innermost(_ key: Key) -> Int32 {
        starts.withUnsafeBufferPointer { s in
            var lo = 0
            var n = s.count
            while n > 1 {
                let half = n >> 1
                if s[lo + half] <= key { lo += half }
                n -= half
            }
            return owner[lo]
        }
    }
}
