extension FlowTable {
    /// Looks up a batch of keys: `results[i]` becomes the index of the entry
    /// with `keys[i]` (whose `FlowKey.hash` is `hashes[i]`), or -1.
    ///
    /// Same answers as `find(_:hash:)` per key, as of the call (an insert or
    /// removal afterwards is not reflected). Faster at a million flows,
    /// because a lookup there is two dependent cache misses (index slot,
    /// then entry) and one `find` at a time leaves the CPU waiting on each;
    /// here the index slots of a group of keys are loaded back to back, then
    /// their candidate entries, so the misses of a group overlap. (Swift has
    /// no prefetch instruction; loads whose values are used later are the
    /// portable substitute.) Allocates nothing.
    @inlinable
    public func find(_ keys: UnsafeBufferPointer<FlowKey>, hashes: UnsafeBufferPointer<UInt64>,
                     into results: UnsafeMutableBufferPointer<Int32>) {
        precondition(hashes.count == keys.count && results.count >= keys.count, "FlowTable.find: buffer sizes differ")
        let group = FlowIndex.batchGroup
        withUnsafeTemporaryAllocation(of: FlowKey.self, capacity: group) { stored in
            withUnsafeTemporaryAllocation(of: SIMD8<UInt32>.self, capacity: group) { windows in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: group) { tags in
                    var start = 0
                    while start < keys.count {
                        let count = min(group, keys.count - start)
                        // 1. The index slots near each home (misses overlap).
                        for j in 0..<count {
                            let (home, tag) = index.probe(hashes[start + j])
                            tags[j] = tag
                            windows[j] = index.window(at: home)
                        }
                        // 2. Each key's first candidate, from slots now cached.
                        for j in 0..<count {
                            results[start + j] = index.firstCandidate(in: windows[j], tag: tags[j])
                        }
                        // 3. The candidates' keys (misses overlap).
                        for j in 0..<count where results[start + j] >= 0 {
                            (stored.baseAddress! + j).initialize(to: entries[Int(results[start + j])].key)
                        }
                        // 4. Compare. A tag collision, or a key displaced past
                        // the window, takes the ordinary probe.
                        for j in 0..<count {
                            let candidate = results[start + j]
                            if candidate >= 0, (stored.baseAddress! + j).move() == keys[start + j] { continue }
                            if candidate != -1 {
                                results[start + j] = find(keys[start + j], hash: hashes[start + j]) ?? -1
                            }
                        }
                        start += count
                    }
                }
            }
        }
    }
}

extension FlowIndex {
    /// Keys looked up together by the batch `find`: enough misses in flight
    /// to hide most of the memory latency, few enough that their work fits
    /// the CPU's reorder window. (8–32 measured alike within noise.)
    @usableFromInline static let batchGroup = 16

    /// The first entry in `window` (slots from the home on) with this home
    /// and tag; -1 when the key is certainly absent, -2 when the window
    /// cannot tell (the run goes on past it).
    @inlinable func firstCandidate(in window: SIMD8<UInt32>, tag: UInt32) -> Int32 {
        let meta = window &>> SIMD8(repeating: indexBits)
        let want = SIMD8(repeating: tag << FlowIndex.displacementBits) &+ FlowIndex.lanes
        let empty = window .== .zero
        let candidates = SIMD8<UInt32>.zero.replacing(with: FlowIndex.laneBits, where: meta .== want .& .!empty)
            .wrappedSum()
        if candidates != 0 {
            return Int32(bitPattern: window[candidates.trailingZeroBitCount] & indexMask) - 1
        }
        let ends = empty .| (meta & SIMD8(repeating: FlowIndex.maxDisplacement) .< FlowIndex.lanes)
        return any(ends) ? -1 : -2
    }
}
