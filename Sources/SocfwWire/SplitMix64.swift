/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): a small deterministic generator, the same on
/// every platform, so fuzz tests and generated benchmark inputs replay
/// exactly. Not for anything secret.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return SplitMix64.finalize(state)
    }

    /// The generator's output function (a 64-bit mix in which every output
    /// bit depends on every input bit), for hashing.
    @inlinable @inline(__always)
    public static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Adds the golden-ratio increment, then finalizes: splitmix64 as a hash step.
    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 { finalize(x &+ 0x9e37_79b9_7f4a_7c15) }

    /// A value in `0..<bound` (0 when `bound <= 0`); the modulo bias is
    /// irrelevant for tests and generated inputs.
    public mutating func below(_ bound: Int) -> Int {
        bound <= 0 ? 0 : Int(truncatingIfNeeded: next() % UInt64(bound))
    }
}
