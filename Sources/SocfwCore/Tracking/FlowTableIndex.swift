/// The key index of a `FlowTable`: open addressing with linear probing kept
/// in Robin Hood order (Celis, 1986) and backward-shift deletion, so there
/// are no tombstones and a run never needs rebuilding.
///
/// One slot is a `UInt32`:
///
///     | tag (32 - indexBits - 6 bits) | displacement (6 bits) | entry index + 1 (indexBits) |
///
/// 0 is an empty slot. The displacement (distance from the key's home slot)
/// is stored, so a lookup compares only slots whose home is its own, a miss
/// stops at the first slot that is closer to its home than the probe is
/// (Robin Hood order), and deletion shifts entries back without rehashing
/// anything. Among the keys sharing a home the tag skips almost every key
/// compare, so a lookup usually touches one index cache line and one entry.
///
/// Homes are `capacity * 5/4` (load factor at most 0.8), mapped with a
/// multiply-shift (Lemire's "fast range") instead of a power-of-two mask so
/// the load factor is the one chosen rather than anything between 0.4 and
/// 0.8: 5 bytes per connection. At load 0.8 the longest displacement over a
/// million random keys measured 28–33, so the 6-bit field (at most 63) is
/// only reached when keys are made to collide; an insert that would need
/// more fails (the table reports it full) instead of degrading every lookup
/// near that home. `maxDisplacement + 1` spare slots after the last home
/// mean no probe ever wraps round.
@usableFromInline
struct FlowIndex: Sendable {
    @usableFromInline static let displacementBits: UInt32 = 6
    @usableFromInline static let maxDisplacement: UInt32 = (1 << displacementBits) - 1
    /// Probe positions looked at for an early-drop victim (Linux looks at 8
    /// hash buckets, `NF_CT_EVICTION_RANGE`; a bucket holds about one entry).
    @usableFromInline static let neighbourhood = 16

    @usableFromInline var slots: [UInt32]
    @usableFromInline let homeCount: UInt64
    @usableFromInline let indexBits: UInt32
    @usableFromInline let indexMask: UInt32
    @usableFromInline let tagShift: UInt32
    /// Per-table secret mixed into every home, so which keys share a probe
    /// run cannot be worked out from `FlowKey.hash` alone.
    @usableFromInline let seed: UInt64

    init(capacity: Int, seed: UInt64) {
        indexBits = UInt32(Int.bitWidth - capacity.leadingZeroBitCount)
        indexMask = UInt32((1 << UInt64(indexBits)) - 1)
        tagShift = indexBits + FlowIndex.displacementBits
        precondition(tagShift < 32, "capacity too large for 32-bit index slots")
        homeCount = UInt64(max(capacity + capacity / 4, 8))
        slots = [UInt32](repeating: 0, count: Int(homeCount) + Int(FlowIndex.maxDisplacement) + 1)
        self.seed = seed
    }

    /// murmur3's 64-bit finaliser: every output bit depends on every input bit.
    @inlinable static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 33)) &* 0xff51_afd7_ed55_8ccd
        z = (z ^ (z >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return z ^ (z >> 33)
    }

    /// The key's home slot and its tag, from `FlowKey.hash`.
    @inlinable func probe(_ hash: UInt64) -> (home: Int, tag: UInt32) {
        let r = FlowIndex.mix(hash ^ seed)
        let home = Int(truncatingIfNeeded: ((r >> 32) &* homeCount) >> 32)
        return (home, UInt32(truncatingIfNeeded: r) >> tagShift)
    }

    /// The entry filed under `hash` for which `matches` holds.
    ///
    /// The first `windowSlots` slots from the home are examined at once, without
    /// branches: a branch that waits on a cache miss and is mispredicted
    /// (as "does the home slot hold my key?" is, half the time) stops the
    /// CPU from starting the next lookup's misses, which costs a full DRAM
    /// round trip per lookup. Only a key displaced `windowSlots` or more slots
    /// (a few in a thousand at load 0.8) takes the slot-by-slot path.
    @inlinable func find(_ hash: UInt64, where matches: (Int32) -> Bool) -> Int32? {
        let (home, tag) = probe(hash)
        let window = window(at: home)
        let meta = window &>> SIMD8(repeating: indexBits)
        // (tag, displacement) of an entry with this home and tag, per lane.
        let want = SIMD8(repeating: tag << FlowIndex.displacementBits) &+ FlowIndex.lanes
        let empty = window .== .zero
        var candidates = SIMD8<UInt32>.zero.replacing(with: FlowIndex.laneBits, where: meta .== want .& .!empty)
            .wrappedSum()
        while candidates != 0 {
            let entry = Int32(bitPattern: window[candidates.trailingZeroBitCount] & indexMask) - 1
            if matches(entry) { return entry }
            candidates &= candidates &- 1
        }
        // Robin Hood order: the key's run ends at the first slot that is
        // empty or holds a key from a later home.
        let ends = empty .| (meta & SIMD8(repeating: FlowIndex.maxDisplacement) .< FlowIndex.lanes)
        if any(ends) { return nil }
        return find(hash, from: home + FlowIndex.windowSlots, tag: tag, where: matches)
    }

    /// Slots examined at once by `find`.
    @usableFromInline static let windowSlots = 8
    // Computed, not stored: a stored static is reached through an accessor
    // call from another module.
    @inlinable static var lanes: SIMD8<UInt32> { SIMD8(0, 1, 2, 3, 4, 5, 6, 7) }
    @inlinable static var laneBits: SIMD8<UInt32> { SIMD8(1, 2, 4, 8, 16, 32, 64, 128) }

    /// The `windowSlots` slots from `home` (always inside the array: it has
    /// `maxDisplacement + 1` spare slots after the last home).
    @inlinable func window(at home: Int) -> SIMD8<UInt32> {
        slots.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: home &* 4, as: SIMD8<UInt32>.self) }
    }

    /// The slot-by-slot probe, from `position` (`position - home` slots on).
    @inlinable func find(_ hash: UInt64, from start: Int, tag: UInt32, where matches: (Int32) -> Bool) -> Int32? {
        var distance = UInt32(FlowIndex.windowSlots)
        var want = tag << FlowIndex.displacementBits | distance
        var position = start
        while true {
            let slot = slots[position]
            let meta = slot >> indexBits
            if slot == 0 || meta & FlowIndex.maxDisplacement < distance { return nil }
            if meta == want {
                let entry = Int32(bitPattern: slot & indexMask) - 1
                if matches(entry) { return entry }
            }
            position += 1
            distance += 1
            want &+= 1
        }
    }

    /// Files `entry` under `hash`, after the entries with the same home.
    /// Returns false, changing nothing, when an entry would end up more than
    /// `maxDisplacement` from its home.
    @inlinable mutating func insert(_ entry: Int32, hash: UInt64) -> Bool {
        let (home, tag) = probe(hash)
        var position = home
        var distance: UInt32 = 0
        while true {
            let slot = slots[position]
            if slot == 0 || (slot >> indexBits) & FlowIndex.maxDisplacement < distance { break }
            position += 1
            distance += 1
        }
        guard distance <= FlowIndex.maxDisplacement else { return false }
        // Everything from `position` to the next empty slot moves one on.
        var end = position
        while slots[end] != 0 {
            if (slots[end] >> indexBits) & FlowIndex.maxDisplacement == FlowIndex.maxDisplacement { return false }
            end += 1
        }
        let step: UInt32 = 1 << indexBits
        while end > position {
            slots[end] = slots[end - 1] &+ step
            end -= 1
        }
        slots[position] = tag << tagShift | distance << indexBits | UInt32(entry + 1)
        return true
    }

    /// Unfiles `entry` (filed under `hash`) and shifts the rest of its run back.
    @inlinable mutating func remove(_ entry: Int32, hash: UInt64) {
        let (home, _) = probe(hash)
        let target = UInt32(entry + 1)
        var position = home
        while slots[position] & indexMask != target {
            position += 1
            precondition(position - home <= Int(FlowIndex.maxDisplacement), "flow index: entry not filed under its key")
        }
        let step: UInt32 = 1 << indexBits
        while true {
            let following = slots[position + 1]
            if following == 0 || (following >> indexBits) & FlowIndex.maxDisplacement == 0 { break }
            slots[position] = following &- step
            position += 1
        }
        slots[position] = 0
    }

    /// Calls `body` with every entry filed in the `neighbourhood` slots from
    /// the home of `hash` on (Linux scans buckets from the new key's on). A
    /// table with no more homes than that (a dozen entries: a test, a lab)
    /// is looked at whole, so which entries are "near" does not depend on
    /// the seed.
    @inlinable func forEachNear(_ hash: UInt64, _ body: (Int32) -> Void) {
        let home = probe(hash).home
        let positions = homeCount <= UInt64(FlowIndex.neighbourhood)
            ? 0..<slots.count : home..<min(home + FlowIndex.neighbourhood, slots.count)
        for position in positions {
            let slot = slots[position]
            if slot != 0 { body(Int32(bitPattern: slot & indexMask) - 1) }
        }
    }

    /// Bytes of the slot array.
    var reservedBytes: Int { slots.capacity * MemoryLayout<UInt32>.stride }
}
