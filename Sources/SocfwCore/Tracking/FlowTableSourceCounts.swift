import SocfwWire

/// Live flows per source address, for `FlowTable`'s per-source limit: a
/// second Robin Hood map (the same scheme as `FlowIndex`) whose `UInt64`
/// slot holds everything, so there is nothing else to look at:
///
///     | identity (33 bits) | displacement (7 bits) | count (24 bits) |
///
/// The identity of an IPv4 source is the address itself (exact). An IPv6
/// source's is a flag bit and 32 bits of a keyed hash; as only slots with
/// the same home are compared, two IPv6 sources share a count only if 32 +
/// ~20 bits of a hash keyed by a per-table secret agree (about 1 in 2^52 per
/// pair), which no one outside can aim for.
///
/// Sized for the worst case, every flow from a different source: homes are
/// `capacity * 10/9` (load at most 0.9, 8.9 bytes per connection; measured
/// longest displacement at that load over a million keys: 46–63, well under
/// the field's 127). Exact, so an address is never refused for another's flows.
/// A table without a limit has no map at all.
@usableFromInline
struct SourceCounts: Sendable {
    @usableFromInline static let countBits: UInt64 = 24
    @usableFromInline static let countMask: UInt64 = (1 << countBits) - 1
    @usableFromInline static let displacementShift: UInt64 = countBits
    @usableFromInline static let maxDisplacement: UInt64 = 127
    /// identity << metaShift | displacement << countBits | count
    @usableFromInline static let metaShift: UInt64 = countBits + 7

    @usableFromInline var slots: [UInt64]
    @usableFromInline let homeCount: UInt64
    @usableFromInline let seed: UInt64
    /// Flows one source may have; below `capacity` (or there is no map) and
    /// so below 2^24.
    @usableFromInline let limit: UInt64

    init(capacity: Int, limit: Int, seed: UInt64) {
        precondition(limit > 0 && UInt64(limit) <= SourceCounts.countMask)
        homeCount = UInt64(max(capacity + capacity / 9, 8))
        slots = [UInt64](repeating: 0, count: Int(homeCount + SourceCounts.maxDisplacement) + 1)
        self.limit = UInt64(limit)
        self.seed = seed
    }

    /// The address's home slot and its identity (see the type's doc).
    @inlinable func probe(_ address: IPAddress) -> (home: Int, identity: UInt64) {
        let h = FlowIndex.mix(FlowIndex.mix(address.high ^ seed) ^ address.low ^ (address.isV6 ? 0x6a09_e667 : 0))
        let home = Int(truncatingIfNeeded: ((h >> 32) &* homeCount) >> 32)
        let identity = address.isV6 ? (1 << 32) | (h & 0xffff_ffff) : address.low & 0xffff_ffff
        return (home, identity)
    }

    /// The slot holding `identity`, whose home is `home`.
    @inlinable func position(of identity: UInt64, home: Int) -> Int? {
        let want = identity << 7
        var distance: UInt64 = 0
        var position = home
        while true {
            let slot = slots[position]
            let meta = slot >> SourceCounts.countBits
            if slot == 0 || meta & SourceCounts.maxDisplacement < distance { return nil }
            if meta == want | distance { return position }
            position += 1
            distance += 1
        }
    }

    @inlinable func count(of address: IPAddress) -> Int {
        let (home, identity) = probe(address)
        guard let p = position(of: identity, home: home) else { return 0 }
        return Int(slots[p] & SourceCounts.countMask)
    }

    @usableFromInline enum Acquired { case counted, atLimit, noRoom }

    /// Counts one more flow for `address`, unless it already has `limit`
    /// (or, in a map hammered with colliding homes, there is no slot left
    /// near its home).
    @inlinable mutating func acquire(_ address: IPAddress) -> Acquired {
        let (home, identity) = probe(address)
        if let p = position(of: identity, home: home) {
            if slots[p] & SourceCounts.countMask >= limit { return .atLimit }
            slots[p] &+= 1
            return .counted
        }
        var position = home
        var distance: UInt64 = 0
        while true {
            let slot = slots[position]
            if slot == 0 || (slot >> SourceCounts.displacementShift) & SourceCounts.maxDisplacement < distance { break }
            position += 1
            distance += 1
        }
        guard distance <= SourceCounts.maxDisplacement else { return .noRoom }
        var end = position
        while slots[end] != 0 {
            if (slots[end] >> SourceCounts.displacementShift) & SourceCounts.maxDisplacement
                == SourceCounts.maxDisplacement { return .noRoom }
            end += 1
        }
        let step: UInt64 = 1 << SourceCounts.displacementShift
        while end > position {
            slots[end] = slots[end - 1] &+ step
            end -= 1
        }
        slots[position] = identity << SourceCounts.metaShift | distance << SourceCounts.displacementShift | 1
        return .counted
    }

    /// Counts one flow of `address` less (it must have one).
    @inlinable mutating func release(_ address: IPAddress) {
        let (home, identity) = probe(address)
        guard var position = position(of: identity, home: home) else {
            preconditionFailure("source counts: released a source that has no flows")
        }
        if slots[position] & SourceCounts.countMask > 1 {
            slots[position] &-= 1
            return
        }
        let step: UInt64 = 1 << SourceCounts.displacementShift
        while true {
            let following = slots[position + 1]
            if following == 0 || (following >> SourceCounts.displacementShift) & SourceCounts.maxDisplacement == 0 {
                break
            }
            slots[position] = following &- step
            position += 1
        }
        slots[position] = 0
    }

    /// Bytes of the slot array.
    var reservedBytes: Int { slots.capacity * MemoryLayout<UInt64>.stride }
}
