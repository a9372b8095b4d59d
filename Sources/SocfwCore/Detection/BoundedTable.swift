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

/// `bytes` of an array, with its header, rounded up to whole 4 KiB pages:
/// the memory a fixed table occupies as the process's RSS counts it (an
/// empty array allocates nothing).
func pageRounded(_ bytes: Int) -> Int { bytes == 0 ? 0 : (bytes + 32 + 4095) & ~4095 }

/// A hash table that never grows: a key hashes to a bucket of `window`
/// slots (set-associative); when they all hold other keys the least
/// recently touched of them is evicted. Its memory is fixed at init, so a
/// flood of distinct keys (spoofed sources) cannot grow it.
///
/// Laid out for few cache lines per update: a bucket's metadata — per slot a
/// 32-bit hash tag (0: empty) and when it was last touched, in ~1 ms ticks —
/// is 64 bytes, so finding a key or the slot to evict reads one line of it;
/// the key and its value sit side by side in `slots`, read only for a
/// matching tag. (Keys, values and times in separate arrays cost four or
/// more lines an update, most of the detectors' per-connection cost.)
struct BoundedTable<Value: Sendable>: Sendable {
    struct Slot: Sendable {
        var key: DetectorKey
        var value: Value
    }
    /// Per slot: tag in the low 32 bits, last touch tick in the high 32.
    /// (Indexed from `metaBase`, the first element on a 64-byte boundary:
    /// a bucket's metadata is then exactly one cache line.)
    private var meta: [UInt64]
    private let metaBase: Int
    private var slots: [Slot]
    private let bucketMask: Int
    private let empty: Value
    static var window: Int { 8 }
    private(set) var count = 0
    private(set) var evictions: UInt64 = 0

    init(capacity: Int, empty: Value) {
        var size = Self.window
        while size < capacity { size <<= 1 }
        meta = Array(repeating: 0, count: size + Self.window)
        let address = meta.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
        metaBase = ((64 - (address & 63)) & 63) / 8
        slots = Array(repeating: Slot(key: DetectorKey(DetectorKey.none, tag: 0), value: empty), count: size)
        bucketMask = (size - 1) & ~(Self.window - 1)
        self.empty = empty
    }

    var capacity: Int { slots.count }

    /// Bytes held, fixed at init, in whole pages per array (what the
    /// allocator maps for them, and what the process's RSS shows).
    var memoryBytes: Int {
        pageRounded(meta.count * 8) + pageRounded(capacity * MemoryLayout<Slot>.stride)
    }

    @inline(__always)
    private static func tag(_ hash: UInt64) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: hash >> 32) | 1) }

    /// ~1 ms ticks (2^20 ns); wraps after 52 days, compared by wrapping difference.
    @inline(__always)
    private static func tick(_ now: Int64) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: now >> 20)) << 32 }

    /// Runs `body` on the entry of `key` (a fresh `empty` one when absent,
    /// evicting if need be).
    @inline(__always)
    mutating func update<R>(_ key: DetectorKey, hash: UInt64, now: Int64, _ body: (inout Value) -> R) -> R {
        let i = slot(for: key, hash: hash, now: now)
        return body(&slots[i].value)
    }

    /// The slot of `key`, touched now: found, or claimed for it with a fresh
    /// `empty` value (evicting the least recently touched of its bucket if
    /// need be).
    private mutating func slot(for key: DetectorKey, hash: UInt64, now: Int64) -> Int {
        let start = Int(truncatingIfNeeded: hash >> 16) & bucketMask
        let m = start + metaBase
        let tag = Self.tag(hash)
        let stamp = Self.tick(now) | tag
        var slot = -1
        for i in start..<(start + Self.window) {
            let t = meta[m + i - start] & 0xffff_ffff
            if t == tag, slots[i].key == key {
                meta[m + i - start] = stamp
                return i
            }
            if t == 0 {
                // Keys are never removed, so nothing lies past an empty slot.
                slot = i
                break
            }
        }
        if slot < 0 {
            // The least recently touched: the largest age in ticks.
            let nowTick = UInt32(truncatingIfNeeded: now >> 20)
            var oldest: UInt32 = 0
            slot = start
            for i in start..<(start + Self.window) {
                let age = nowTick &- UInt32(truncatingIfNeeded: meta[m + i - start] >> 32)
                if age > oldest {
                    oldest = age
                    slot = i
                }
            }
            evictions &+= 1
        } else {
            count += 1
        }
        meta[m + slot - start] = stamp
        slots[slot] = Slot(key: key, value: empty)
        return slot
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
