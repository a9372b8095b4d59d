import SocfwWire

/// Counts signature matches per tracked key (source, destination, both or
/// the rule alone) in time windows, for `threshold` and `detection_filter`.
///
/// A fixed-size open-addressing table owned by one worker: a flood of
/// spoofed sources overwrites old entries instead of growing memory (the
/// counts of an evicted key start again, which can only delay an alert).
/// Counts are per worker; flows of one source that land on different queues
/// are counted separately (documented in Docs/signatures.md).
struct ThresholdTracker {
    struct Entry {
        var key: UInt64 = 0
        var windowStart: Int64 = 0
        var count: UInt32 = 0
        var alerted = false
    }

    private var entries: [Entry]
    private let mask: Int
    private(set) var evictions: UInt64 = 0

    init(capacity: Int = 1 << 16) {
        var size = 16
        while size < capacity { size <<= 1 }
        entries = [Entry](repeating: Entry(), count: size)
        mask = size - 1
    }

    var memoryBytes: Int { entries.count * MemoryLayout<Entry>.stride }

    static func key(_ spec: ThresholdSpec, signature: Int32, source: IPAddress, destination: IPAddress) -> UInt64 {
        var h = UInt64(UInt32(bitPattern: signature)) &* 0x9e37_79b9_7f4a_7c15
        func mix(_ a: IPAddress) { h = (h ^ a.high &* 0xff51_afd7_ed55_8ccd ^ a.low) &* 0xc4ce_b9fe_1a85_ec53 }
        switch spec.track {
        case .bySource: mix(source)
        case .byDestination: mix(destination)
        case .byBoth: mix(source); mix(destination)
        case .byRule: break
        }
        h ^= h >> 29
        return h | 1  // 0 marks an empty entry
    }

    /// Records one match; returns whether it passes the filter (for
    /// `threshold`: whether to alert; for `detection_filter`: whether the
    /// signature counts as matching).
    mutating func record(_ spec: ThresholdSpec, signature: Int32, source: IPAddress, destination: IPAddress,
                         now: Int64) -> Bool {
        let key = ThresholdTracker.key(spec, signature: signature, source: source, destination: destination)
        let window = Int64(max(spec.seconds, 1)) * 1_000_000_000
        var slot = Int(truncatingIfNeeded: key) & mask
        // Probe 4 slots; otherwise evict the oldest of them.
        var victim = slot
        var found = false
        for _ in 0..<4 {
            if entries[slot].key == key { found = true; break }
            if entries[slot].key == 0 { break }
            if entries[slot].windowStart < entries[victim].windowStart { victim = slot }
            slot = (slot + 1) & mask
        }
        if !found {
            if entries[slot].key != 0 && entries[slot].key != key {
                slot = victim
                evictions &+= 1
            }
            entries[slot] = Entry(key: key, windowStart: now, count: 0)
        }
        if now - entries[slot].windowStart >= window {
            entries[slot].windowStart = now
            entries[slot].count = 0
            entries[slot].alerted = false
        }
        entries[slot].count &+= 1
        let n = Int(entries[slot].count)
        switch spec.kind {
        case .limit:
            return n <= spec.count
        case .threshold:
            if n >= spec.count {
                entries[slot].count = 0
                return true
            }
            return false
        case .both:
            if n >= spec.count && !entries[slot].alerted {
                entries[slot].alerted = true
                return true
            }
            return false
        case .detectionFilter:
            return n > spec.count
        }
    }
}
