import Foundation
import SocfwWire

/// The key of every detector table: one or two addresses, a port and a tag
/// saying which table and which kind of entry it is.
struct DetectorKey: Hashable, Sendable {
    var a: IPAddress
    var b: IPAddress
    var port: UInt16
    var tag: UInt16

    static let none = IPAddress(v4: 0)

    init(_ a: IPAddress, _ b: IPAddress = DetectorKey.none, port: UInt16 = 0, tag: UInt16) {
        self.a = a
        self.b = b
        self.port = port
        self.tag = tag
    }

    /// splitmix64-style mix; stable across runs (unlike `Hasher`).
    var mixed: UInt64 {
        var h = DetectorKey.mix(a.high ^ UInt64(tag) << 48 ^ UInt64(port) << 32)
        h = DetectorKey.mix(h ^ a.low)
        if b != DetectorKey.none {
            h = DetectorKey.mix(h ^ b.high)
            h = DetectorKey.mix(h ^ b.low)
        }
        return h
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 { SplitMix64.mix(x) }
}

/// A hash table that never grows: open addressing over a power-of-two array,
/// probing at most `window` slots; when they all hold other keys the least
/// recently touched of them is evicted. Its memory is fixed at init, so a
/// flood of distinct keys (spoofed sources) cannot grow it. A 32-bit tag per
/// slot (0: empty) is compared before the key: a probe reads one cache line
/// of tags, then only the key and value it finds.
struct BoundedTable<Value: Sendable>: Sendable {
    private var tags: [UInt32]
    private var keys: [DetectorKey]
    private var values: [Value]
    private var touched: [Int64]
    private let mask: Int
    private let empty: Value
    static var window: Int { 8 }
    private(set) var count = 0
    private(set) var evictions: UInt64 = 0

    init(capacity: Int, empty: Value) {
        var size = 8
        while size < capacity { size <<= 1 }
        tags = Array(repeating: 0, count: size)
        keys = Array(repeating: DetectorKey(DetectorKey.none, tag: 0), count: size)
        values = Array(repeating: empty, count: size)
        touched = Array(repeating: 0, count: size)
        mask = size - 1
        self.empty = empty
    }

    var capacity: Int { mask + 1 }

    /// Bytes held, fixed at init.
    var memoryBytes: Int {
        capacity * (4 + MemoryLayout<DetectorKey>.stride + MemoryLayout<Value>.stride + MemoryLayout<Int64>.stride)
    }

    @inline(__always)
    private static func tag(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 32) | 1 }

    /// Runs `body` on the entry of `key` (a fresh `empty` one when absent,
    /// evicting if need be).
    mutating func update<R>(_ key: DetectorKey, hash: UInt64, now: Int64, _ body: (inout Value) -> R) -> R {
        let start = Int(truncatingIfNeeded: hash >> 16) & mask
        let tag = Self.tag(hash)
        var free = -1
        for step in 0..<Self.window {
            let i = (start + step) & mask
            let t = tags[i]
            if t == tag, keys[i] == key {
                touched[i] = now
                return body(&values[i])
            }
            if t == 0 {
                // Keys are never removed, so nothing lies past an empty slot.
                free = i
                break
            }
        }
        var slot = free
        if slot < 0 {
            var oldest = Int64.max
            for step in 0..<Self.window {
                let i = (start + step) & mask
                if touched[i] < oldest {
                    oldest = touched[i]
                    slot = i
                }
            }
            evictions &+= 1
        } else {
            count += 1
        }
        tags[slot] = tag
        keys[slot] = key
        values[slot] = empty
        touched[slot] = now
        return body(&values[slot])
    }
}

/// A distinct-count sketch over a sliding window: linear counting (Whang et
/// al. 1990) in `words`×64 bits, two half-window generations. The count is
/// of the values seen in the current and the previous half window, so it
/// covers between half and all of the window. Accurate (a few percent) up
/// to about the number of bits; memory is fixed.
struct DistinctWindow: Sendable {
    var start: Int64 = 0
    var current: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var previous: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Adds a hashed value at `now` (ns) and returns the estimated distinct count.
    mutating func add(_ hash: UInt64, now: Int64, halfWindow: Int64) -> Int {
        if now &- start >= halfWindow {
            previous = now &- start >= 2 * halfWindow ? (0, 0, 0, 0) : current
            current = (0, 0, 0, 0)
            start = now
        }
        let bit = UInt64(1) << (hash & 63)
        switch (hash >> 6) & 3 {
        case 0: current.0 |= bit
        case 1: current.1 |= bit
        case 2: current.2 |= bit
        default: current.3 |= bit
        }
        let set = (current.0 | previous.0).nonzeroBitCount + (current.1 | previous.1).nonzeroBitCount
            + (current.2 | previous.2).nonzeroBitCount + (current.3 | previous.3).nonzeroBitCount
        return DistinctWindow.estimate(set: set, bits: 256)
    }

    static func estimate(set: Int, bits: Int) -> Int {
        bits == 256 ? estimates256[min(set, 256)] : estimates1024[min(set, 1024)]
    }

    /// -m ln(zeros / m), rounded, for every count of set bits (m set: 4m).
    static let estimates256 = table(bits: 256)
    static let estimates1024 = table(bits: 1024)
    static func table(bits: Int) -> [Int] {
        (0...bits).map { set in
            set >= bits ? bits * 4 : Int((-Double(bits) * log(Double(bits - set) / Double(bits))).rounded())
        }
    }
}

/// The same sketch with 1024 bits, for the long (slow scan) window.
struct WideDistinctWindow: Sendable {
    var start: Int64 = 0
    var current = InlineArray<16, UInt64>(repeating: 0)
    var previous = InlineArray<16, UInt64>(repeating: 0)
    var set = 0

    mutating func add(_ hash: UInt64, now: Int64, halfWindow: Int64) -> Int {
        if now &- start >= halfWindow {
            if now &- start >= 2 * halfWindow {
                for i in 0..<16 { previous[i] = 0 }
            } else {
                for i in 0..<16 { previous[i] = current[i] }
            }
            for i in 0..<16 { current[i] = 0 }
            start = now
            set = 0
            for i in 0..<16 { set += previous[i].nonzeroBitCount }
        }
        let word = Int((hash >> 6) & 15)
        let bit = UInt64(1) << (hash & 63)
        if (current[word] | previous[word]) & bit == 0 { set += 1 }
        current[word] |= bit
        return DistinctWindow.estimate(set: set, bits: 1024)
    }
}

/// A count over a sliding window of two half-window buckets.
struct SlidingCount: Sendable {
    var start: Int64 = 0
    var current: UInt32 = 0
    var previous: UInt32 = 0

    mutating func add(_ n: UInt32, now: Int64, halfWindow: Int64) -> Int {
        roll(now: now, halfWindow: halfWindow)
        current &+= n
        return Int(current) + Int(previous)
    }

    mutating func roll(now: Int64, halfWindow: Int64) {
        if now &- start >= halfWindow {
            previous = now &- start >= 2 * halfWindow ? 0 : current
            current = 0
            start = now
        }
    }
}
