// socfw-bench conntrack [--flows N] [--per-source-limit N (default 0, as socfwd's default)] [--rounds N]
//
// The connection table alone, on one thread: insert N flows, look up the N
// keys in random order, look up N absent keys, expire all N by advancing
// time; resident memory of the whole process before and with N live flows.
// Baseline in the same run: the same lookups in a Dictionary<FlowKey, Int32>.
// Keys are computed from their number rather than stored, so the process
// holds nothing of size besides what is measured.
import Foundation
import SocfwCore
import SocfwWire

/// The tracker's real entry type is measured: `Connection`, with a TCP
/// tracker started from a SYN.
private let benchTCP = TCPTracker.start(
    TCPSegmentInfo(flags: .syn, sequence: 1, acknowledgement: 0, window: 65535, payloadLength: 0, windowScale: 7),
    loosePickup: false).0!

/// Flow number `i`: a client (one IPv6 in eight) with 16 flows from ports
/// 20000...20015 to one of 4,096 servers. `absent` keys come from other
/// client networks, so they are never in the table.
private func benchFlow(_ i: Int, absent: Bool = false) -> (key: FlowKey, client: IPAddress) {
    let clientNumber = UInt64(i >> 4)
    let v6 = i & 7 == 7
    let client = v6
        ? IPAddress(v6High: absent ? 0x2001_0db8_0002_0000 : 0x2001_0db8_0001_0000, low: clientNumber)
        : IPAddress(v4: (absent ? 0x0b00_0000 : 0x0a00_0000) | UInt32(truncatingIfNeeded: clientNumber))
    let serverNumber = (UInt64(i) &* 0x9e37_79b9_7f4a_7c15) >> 52
    let server = v6
        ? IPAddress(v6High: 0x2001_0db8_ffff_0000, low: serverNumber)
        : IPAddress(v4: 0xc000_0200 &+ UInt32(serverNumber))
    let udp = i % 5 == 4
    let key = FlowKey(source: client, sourcePort: UInt16(20000 + i & 15), destination: server,
                      destinationPort: udp ? 53 : 443, protocolNumber: udp ? 17 : 6)
    return (key, client)
}

/// A random-looking bijection of 0..<n with no table: a bijective mix on
/// the enclosing power of two, walked until it lands below n. Random order
/// defeats the caches and the hardware prefetchers, as real traffic does.
private struct BenchPermutation {
    let n: UInt64
    let bits: UInt64
    let mask: UInt64

    init(_ n: Int) {
        self.n = UInt64(n)
        bits = UInt64(max(2, Int.bitWidth - (n - 1).leadingZeroBitCount))
        mask = (1 << bits) - 1
    }

    func callAsFunction(_ i: Int) -> Int {
        var x = UInt64(i)
        repeat {
            x = (x &* 0x9e37_79b9_7f4a_7c15 &+ 0x632b_e59b) & mask
            x ^= x >> (bits / 2 + 1)
            x = (x &* 0xbf58_476d_1ce4_e5b9) & mask
            x ^= x >> (bits / 2)
        } while x >= n
        return Int(x)
    }
}

private func monotonicNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

/// Anonymous resident bytes of the process: resident less file-backed
/// (/proc/self/statm: resident - shared), i.e. heap and anonymous mappings.
func residentAnonymousBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 2, let resident = Int(fields[1]), let shared = Int(fields[2]) else { return 0 }
    return (resident - shared) * sysconf(Int32(_SC_PAGESIZE))
}

/// Resident bytes of the whole process (/proc/self/statm, second field).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}

/// Times `body` over `0..<count` in chunks of `chunk`, with `prepare` run
/// untimed before each chunk (it computes the keys the chunk uses).
private func timedInChunks(_ count: Int, chunk: Int, prepare: (Range<Int>) -> Void,
                           _ body: (Range<Int>) -> Void) -> Int64 {
    var total: Int64 = 0
    var start = 0
    while start < count {
        let range = start..<min(start + chunk, count)
        prepare(range)
        let t0 = monotonicNanoseconds()
        body(range)
        total += monotonicNanoseconds() - t0
        start = range.upperBound
    }
    return total
}

private func format(_ x: Double) -> String { String(format: "%.1f", x) }

func benchConntrack() {
    let flows = argument("--flows", default: 1_000_000)
    let perSourceLimit = argument("--per-source-limit", default: 0)
    let rounds = max(1, argument("--rounds", default: 5))
    guard flows > 0, flows <= 1 << 24 else {
        FileHandle.standardError.write(Data("socfw-bench: --flows must be 1...16777216\n".utf8))
        exit(2)
    }
    let chunk = 4096
    var keys = [FlowKey](repeating: FlowKey(lowAddress: IPAddress(v4: 0), highAddress: IPAddress(v4: 0),
                                            lowPort: 0, highPort: 0, protocolNumber: 0), count: chunk)
    var clients = [IPAddress](repeating: IPAddress(v4: 0), count: chunk)
    let order = BenchPermutation(flows)
    let megabyte = 1_048_576.0
    var sink = 0

    let rssBefore = residentBytes()
    var table = FlowTable<Connection>(capacity: flows, perSourceLimit: perSourceLimit, hashSeed: 0x5eed)
    print("conntrack: \(flows) flows, entry \(MemoryLayout<Connection>.stride) bytes, "
        + "per-source limit \(perSourceLimit), table reserves \(format(Double(table.reservedBytes) / megabyte)) MB, one thread")

    // Insert: flow i starts at i ns, with a timeout of 10...300 s (all within
    // one revolution of the wheel, so expiry below visits each flow once
    // plus the re-files of the flows touched later).
    let insertNanoseconds = timedInChunks(flows, chunk: chunk, prepare: { range in
        for i in range {
            let flow = benchFlow(i)
            keys[i - range.lowerBound] = flow.key
            clients[i - range.lowerBound] = flow.client
        }
    }) { range in
        for i in range {
            let key = keys[i - range.lowerBound]
            let c = Connection(key: key, originalIsLow: key.lowAddress == clients[i - range.lowerBound],
                               tcp: benchTCP, timeoutSeconds: 10 + i % 291, now: Int64(i))
            if case .inserted(let index) = table.insert(c, now: Int64(i)) { sink &+= Int(index) }
        }
    }
    precondition(table.count == flows, "bench: \(flows - table.count) inserts failed")
    let rssFilled = residentBytes()

    // A rules reload forgets every decision kept per flow: one pass over the table.
    var clearNanoseconds = Int64.max
    for _ in 0..<rounds {
        let t0 = DispatchTime.now().uptimeNanoseconds
        table.updateAll { $0.clearRuleCache() }
        clearNanoseconds = min(clearNanoseconds, Int64(DispatchTime.now().uptimeNanoseconds - t0))
    }

    // Lookups do not change the table: best of `rounds`.
    var hitNanoseconds = Int64.max, batchNanoseconds = Int64.max, missNanoseconds = Int64.max
    var hashes = [UInt64](repeating: 0, count: chunk)
    var results = [Int32](repeating: 0, count: chunk)
    for _ in 0..<rounds {
        hitNanoseconds = min(hitNanoseconds, timedInChunks(flows, chunk: chunk, prepare: { range in
            for i in range { keys[i - range.lowerBound] = benchFlow(order(i)).key }
        }) { range in
            for k in 0..<range.count {
                guard let index = table.find(keys[k]) else { preconditionFailure("bench: key not found") }
                sink &+= Int(index)
            }
        })
        // The same keys through the batch lookup (hashing included).
        batchNanoseconds = min(batchNanoseconds, timedInChunks(flows, chunk: chunk, prepare: { range in
            for i in range { keys[i - range.lowerBound] = benchFlow(order(i)).key }
        }) { range in
            let n = range.count
            keys.withUnsafeBufferPointer { k in
                hashes.withUnsafeMutableBufferPointer { h in
                    for j in 0..<n { h[j] = k[j].hash }
                    results.withUnsafeMutableBufferPointer { r in
                        table.find(UnsafeBufferPointer(rebasing: k[..<n]),
                                   hashes: UnsafeBufferPointer(rebasing: h[..<n]),
                                   into: UnsafeMutableBufferPointer(rebasing: r[..<n]))
                    }
                }
            }
            for j in 0..<n {
                precondition(results[j] >= 0, "bench: key not found")
                sink &+= Int(results[j])
            }
        })
        missNanoseconds = min(missNanoseconds, timedInChunks(flows, chunk: chunk, prepare: { range in
            for i in range { keys[i - range.lowerBound] = benchFlow(order(i), absent: true).key }
        }) { range in
            for k in 0..<range.count where table.find(keys[k]) != nil { preconditionFailure("bench: absent key found") }
        })
    }

    // A quarter of the flows see a packet 5 s later (their expiry moves
    // later; the wheel re-files them when their old slot comes round).
    for i in stride(from: 0, to: flows, by: 4) {
        if let index = table.find(benchFlow(i).key) {
            table.withEntry(index) { $0.lastSeenNanoseconds += 5_000_000_000 }
        }
    }
    var expired = 0
    let expireStart = monotonicNanoseconds()
    var now: Int64 = 0
    while table.count > 0 {
        now += 1_000_000_000
        while table.expire(now: now, budget: 1024, onExpire: { _ in expired += 1 }) > 0 {}
        precondition(now < 400_000_000_000, "bench: flows left after 400 s")
    }
    let expireNanoseconds = monotonicNanoseconds() - expireStart
    precondition(expired == flows)
    table = FlowTable(capacity: 1, perSourceLimit: 0)  // give the memory back before the baseline

    // Baseline: Dictionary<FlowKey, Int32> (the index alone; the entries
    // would need an array of their own on top).
    let rssBeforeDictionary = residentBytes()
    var dictionary = [FlowKey: Int32](minimumCapacity: flows)
    for i in 0..<flows { dictionary[benchFlow(i).key] = Int32(i) }
    let rssDictionary = residentBytes()
    var dictionaryNanoseconds = Int64.max
    for _ in 0..<rounds {
        dictionaryNanoseconds = min(dictionaryNanoseconds, timedInChunks(flows, chunk: chunk, prepare: { range in
            for i in range { keys[i - range.lowerBound] = benchFlow(order(i)).key }
        }) { range in
            for k in 0..<range.count {
                guard let index = dictionary[keys[k]] else { preconditionFailure("bench: key not found") }
                sink &+= Int(index)
            }
        })
    }
    dictionary = [:]

    let n = Double(flows)
    let nsPerInsert = Double(insertNanoseconds) / n
    let nsPerLookup = Double(hitNanoseconds) / n
    let nsPerMiss = Double(missNanoseconds) / n
    let nsPerBatchedLookup = Double(batchNanoseconds) / n
    let nsPerExpire = Double(expireNanoseconds) / n
    let bytesPerConnection = Double(rssFilled - rssBefore) / n
    let rssMegabytes = Double(rssFilled) / megabyte
    let dictionaryNsPerLookup = Double(dictionaryNanoseconds) / n
    let dictionaryBytesPerConnection = Double(rssDictionary - rssBeforeDictionary) / n
    print("insert: \(format(nsPerInsert)) ns/flow")
    print("lookup: \(format(nsPerLookup)) ns (present, random order), \(format(nsPerMiss)) ns (absent), "
        + "\(format(nsPerBatchedLookup)) ns (present, batches of \(chunk)); best of \(rounds)")
    print("expire: \(format(nsPerExpire)) ns/flow (1/4 re-filed once)")
    print("resident: \(format(Double(rssBefore) / megabyte)) MB before, \(format(rssMegabytes)) MB with \(flows) flows "
        + "(\(format(bytesPerConnection)) bytes/connection)")
    print("dictionary<FlowKey, Int32>: \(format(dictionaryNsPerLookup)) ns/lookup, "
        + "\(format(dictionaryBytesPerConnection)) bytes/connection for the index alone")
    print("rule-cache clear on reload: \(format(Double(clearNanoseconds) / 1e6)) ms for \(flows) flows")
    print("(checksum \(sink & 0xffff))")
    print("{\"flows\":\(flows),\"ns_per_insert\":\(format(nsPerInsert)),\"ns_per_lookup\":\(format(nsPerLookup))"
        + ",\"ns_per_miss\":\(format(nsPerMiss)),\"ns_per_expire\":\(format(nsPerExpire))"
        + ",\"bytes_per_connection\":\(format(bytesPerConnection)),\"rss_mb_at_1m\":\(format(rssMegabytes))"
        + ",\"target_rss_mb\":150,\"target_ns_per_lookup\":50"
        + ",\"ns_per_lookup_batched\":\(format(nsPerBatchedLookup))"
        + ",\"dictionary_ns_per_lookup\":\(format(dictionaryNsPerLookup))"
        + ",\"dictionary_bytes_per_connection\":\(format(dictionaryBytesPerConnection))"
        + ",\"ms_clear_rule_cache\":\(format(Double(clearNanoseconds) / 1e6))"
        + ",\"entry_bytes\":\(MemoryLayout<Connection>.stride),\"per_source_limit\":\(perSourceLimit)}")
}
