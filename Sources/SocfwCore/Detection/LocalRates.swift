import SocfwWire

/// One worker's rate counts for one key — an address in a `RateRole`, with
/// a port for destination ports — in one 64-byte cache line. Counts reach
/// the hub (`DetectorHub.merge`) at the next flush (every 100 ms) or when the
/// entry is displaced, so 32-bit counters suffice: bytes are merged before
/// they could overflow (`bytesNearLimit`, ~34 Gbit/s for one key over a flush).
struct LocalRate {
    var high: UInt64 = 0
    var low: UInt64 = 0
    var port: UInt16 = 0
    /// The key's `RateRole`; 0: empty.
    var role: UInt8 = 0
    var isV6 = false
    /// Packets and bytes by protocol class: 0 TCP, 1 UDP, 2 ICMP/other.
    var packets: (UInt32, UInt32, UInt32) = (0, 0, 0)
    var bytes: (UInt32, UInt32, UInt32) = (0, 0, 0)
    var echo: UInt32 = 0
    var syn: UInt32 = 0
    var synAck: UInt32 = 0
    var completed: UInt32 = 0

    var isEmpty: Bool { role == 0 }

    /// The hub's key for this entry.
    var key: DetectorKey {
        DetectorKey(isV6 ? IPAddress(v6High: high, low: low) : IPAddress(v4: UInt32(truncatingIfNeeded: low)),
                    port: port, tag: UInt16(role))
    }

    @inline(__always)
    func holds(_ a: IPAddress, port: UInt16, role: UInt8) -> Bool {
        low == a.low && high == a.high && self.port == port && self.role == role && isV6 == a.isV6
    }

    /// `n` packets of `bytes` each in protocol class `klass` (0 TCP, 1 UDP, 2 other).
    @inline(__always)
    mutating func count(_ klass: Int, bytes: UInt32, packets n: UInt32 = 1) {
        let total = bytes &* n
        switch klass {
        case 0: packets.0 &+= n; self.bytes.0 &+= total
        case 1: packets.1 &+= n; self.bytes.1 &+= total
        default: packets.2 &+= n; self.bytes.2 &+= total
        }
    }

    /// Packets and handshake events counted (a SYN is a packet and a SYN:
    /// once).
    var events: UInt32 { packets.0 &+ packets.1 &+ packets.2 &+ synAck &+ completed }

    /// Another 64 KiB packet could overflow a byte count: merge first.
    var bytesNearLimit: Bool { max(bytes.0, bytes.1, bytes.2) >= UInt32.max - 0x1_0000 }
}

/// A worker's direct-mapped table of `LocalRate`s, each on its own cache
/// line, with the last source seen per entry beside it (destination roles:
/// an alert about a victim names a source). A class only to own its aligned
/// memory; one per worker, never shared between threads.
final class LocalRateTable {
    let entries: UnsafeMutablePointer<LocalRate>
    let lastSources: UnsafeMutablePointer<IPAddress>
    let count: Int

    init(count: Int) {
        precondition(MemoryLayout<LocalRate>.stride == 64, "LocalRate must fill one cache line")
        self.count = count
        entries = UnsafeMutableRawPointer.allocate(byteCount: count * 64, alignment: 64)
            .bindMemory(to: LocalRate.self, capacity: count)
        entries.initialize(repeating: LocalRate(), count: count)
        lastSources = .allocate(capacity: count)
        lastSources.initialize(repeating: DetectorKey.none, count: count)
    }

    deinit {
        entries.deinitialize(count: count)
        UnsafeMutableRawPointer(entries).deallocate()
        lastSources.deinitialize(count: count)
        lastSources.deallocate()
    }

    var memoryBytes: Int { pageRounded(count * 64) + pageRounded(count * MemoryLayout<IPAddress>.stride) }
}
