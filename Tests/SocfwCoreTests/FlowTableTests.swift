import Testing
import SocfwCore
import SocfwWire

/// A table entry with everything the protocol asks for stored plainly, and
/// a serial number to tell entries apart.
private struct Flow: FlowTableEntry, Equatable {
    var key: FlowKey
    var expiresAtNanoseconds: Int64
    var lastSeenNanoseconds: Int64 = 0
    var isEarlyDroppable = true
    var sourceAddress: IPAddress
    var serial = 0

    init(_ key: FlowKey, expiresAt: Int64 = 3_600 * second, lastSeen: Int64 = 0, droppable: Bool = true,
         source: IPAddress? = nil, serial: Int = 0) {
        self.key = key
        expiresAtNanoseconds = expiresAt
        lastSeenNanoseconds = lastSeen
        isEarlyDroppable = droppable
        sourceAddress = source ?? key.lowAddress
        self.serial = serial
    }
}

private let second: Int64 = 1_000_000_000

/// Flow `n` from client 10.x.y.z (or 2001:db8::n) port 40000+ to a server.
private func key(_ n: Int, v6: Bool = false, client: IPAddress? = nil) -> FlowKey {
    let c = client ?? (v6 ? IPAddress(v6High: 0x2001_0db8_0000_0000, low: UInt64(n >> 3))
                          : IPAddress(v4: 0x0a00_0000 | UInt32(n >> 3)))
    let server = v6 ? IPAddress(v6High: 0x2001_0db8_ffff_0000, low: 443) : IPAddress(v4: 0xc000_0201)
    return FlowKey(source: c, sourcePort: UInt16(40000 + n & 7), destination: server, destinationPort: 443,
                   protocolNumber: 6)
}

private func insert(_ flow: Flow, into table: inout FlowTable<Flow>, now: Int64 = 0) -> Int32 {
    switch table.insert(flow, now: now) {
    case .inserted(let index), .insertedAfterEarlyDrop(let index): return index
    case .tableFull, .sourceLimit: Issue.record("insert refused"); return -1
    }
}

@Suite struct FlowTableTests {
    @Test(arguments: [false, true])
    func insertedFlowsAreFoundAndRemovedFlowsAreNot(v6: Bool) {
        var table = FlowTable<Flow>(capacity: 1000, perSourceLimit: 0)
        var indices: [Int32] = []
        for n in 0..<500 {
            indices.append(insert(Flow(key(n, v6: v6), serial: n), into: &table))
        }
        #expect(table.count == 500)
        for n in 0..<500 {
            let k = key(n, v6: v6)
            #expect(table.find(k) == indices[n])
            #expect(table.find(k, hash: k.hash) == indices[n])
            #expect(table[indices[n]].serial == n)
        }
        #expect(table.find(key(500, v6: v6)) == nil)
        #expect(table.find(key(0, v6: !v6)) == nil)
        for n in stride(from: 0, to: 500, by: 2) {
            #expect(table.remove(indices[n]).serial == n)
        }
        for n in 0..<500 {
            #expect(table.find(key(n, v6: v6)) == (n % 2 == 0 ? nil : indices[n]))
        }
        #expect(table.count == 250)
        #expect(table.stats.inserted == 500 && table.stats.removed == 250 && table.stats.count == 250)
    }

    @Test func theSameFlowIsFoundFromEitherDirection() {
        var table = FlowTable<Flow>(capacity: 16, perSourceLimit: 0)
        let a = IPAddress(v4: 0xc0a8_0001), b = IPAddress(v4: 0x0808_0808)
        let forward = FlowKey(source: a, sourcePort: 5353, destination: b, destinationPort: 53, protocolNumber: 17)
        let reply = FlowKey(source: b, sourcePort: 53, destination: a, destinationPort: 5353, protocolNumber: 17)
        let index = insert(Flow(forward), into: &table)
        #expect(table.find(reply) == index)
    }

    @Test func anIPv4AddressAndItsIPv6LookalikeAreDifferentFlows() {
        var table = FlowTable<Flow>(capacity: 16, perSourceLimit: 4)
        let v4 = IPAddress(v4: 0x0102_0304)
        let v6 = IPAddress(v6High: 0, low: 0x0102_0304)
        let k4 = key(0, client: v4), k6 = key(0, client: v6)
        let i4 = insert(Flow(k4, source: v4, serial: 4), into: &table)
        #expect(table.find(k6) == nil)
        let i6 = insert(Flow(k6, source: v6, serial: 6), into: &table)
        #expect(table.find(k4) == i4 && table.find(k6) == i6)
        #expect(table.sourceCount(v4) == 1 && table.sourceCount(v6) == 1)
    }

    @Test func withEntryChangesTheStoredEntryInPlace() {
        var table = FlowTable<Flow>(capacity: 16, perSourceLimit: 0)
        let index = insert(Flow(key(1)), into: &table)
        let old = table.withEntry(index) { flow -> Int in
            defer { flow.serial = 42; flow.lastSeenNanoseconds = 7 }
            return flow.serial
        }
        #expect(old == 0)
        #expect(table[index].serial == 42 && table[index].lastSeenNanoseconds == 7)
    }

    @Test func backwardShiftDeletionKeepsEveryOtherKeyFindable() {
        // A full small table, so runs are long and most removals shift.
        var table = FlowTable<Flow>(capacity: 256, perSourceLimit: 0, hashSeed: 7)
        var live: [Int: Int32] = [:]
        for n in 0..<256 { live[n] = insert(Flow(key(n)), into: &table) }
        var rng = SplitMix64(seed: 1)
        while !live.isEmpty {
            let n = Array(live.keys).sorted()[rng.below(live.count)]
            table.remove(live.removeValue(forKey: n)!)
            for (m, index) in live { #expect(table.find(key(m)) == index) }
            #expect(table.find(key(n)) == nil)
        }
        #expect(table.count == 0)
    }

    @Test func aFreedSlotIsReused() {
        var table = FlowTable<Flow>(capacity: 2, perSourceLimit: 0)
        let a = insert(Flow(key(1)), into: &table)
        _ = insert(Flow(key(2)), into: &table)
        table.remove(a)
        #expect(insert(Flow(key(3)), into: &table) == a)
        #expect(table.find(key(1)) == nil && table.find(key(3)) == a)
    }

    @Test func forEachVisitsExactlyTheLiveEntries() {
        var table = FlowTable<Flow>(capacity: 64, perSourceLimit: 0)
        var indices: [Int32] = []
        for n in 0..<40 { indices.append(insert(Flow(key(n), serial: n), into: &table)) }
        for n in stride(from: 0, to: 40, by: 3) { table.remove(indices[n]) }
        var seen: [Int32: Int] = [:]
        table.forEach { index, flow in seen[index] = flow.serial }
        let expected = Dictionary(uniqueKeysWithValues: (0..<40).filter { $0 % 3 != 0 }.map { (indices[$0], $0) })
        #expect(seen == expected)
    }

    @Test func memoryIsReservedUpFrontAtAFewBytesPerFlowOverTheEntry() {
        let table = FlowTable<Flow>(capacity: 100_000, perSourceLimit: 0)
        let overhead = Double(table.reservedBytes) / 100_000 - Double(MemoryLayout<Flow>.stride)
        #expect(overhead > 12 && overhead < 14)
        let limited = FlowTable<Flow>(capacity: 100_000, perSourceLimit: 10)
        let withSources = Double(limited.reservedBytes) / 100_000 - Double(MemoryLayout<Flow>.stride)
        #expect(withSources > 21 && withSources < 23)
    }

    @Test func theBatchLookupAgreesWithFind() {
        var table = FlowTable<Flow>(capacity: 5000, perSourceLimit: 0)
        for n in 0..<4000 { _ = insert(Flow(key(n, v6: n % 3 == 0)), into: &table) }
        let keys = (0..<1000).map { key($0 * 5, v6: $0 % 2 == 0) }  // present and absent
        let hashes = keys.map(\.hash)
        var results = [Int32](repeating: 7, count: keys.count)
        keys.withUnsafeBufferPointer { k in
            hashes.withUnsafeBufferPointer { h in
                results.withUnsafeMutableBufferPointer { table.find(k, hashes: h, into: $0) }
            }
        }
        for (k, result) in zip(keys, results) { #expect(result == (table.find(k) ?? -1)) }
        #expect(results.contains(-1) && results.contains { $0 >= 0 })
    }
}

@Suite struct FlowTableExpiryTests {
    @Test func flowsExpireInTheOrderOfTheirExpiry() {
        var table = FlowTable<Flow>(capacity: 200, perSourceLimit: 0)
        for n in 0..<100 {
            _ = insert(Flow(key(n), expiresAt: Int64(100 - n) * second, serial: n), into: &table)
        }
        var order: [Int] = []
        let removed = table.expire(now: 200 * second, budget: .max) { order.append($0.serial) }
        #expect(removed == 100)
        #expect(order == Array((0..<100).reversed()))
        #expect(table.count == 0 && table.stats.expired == 100)
    }

    @Test func aFlowExpiresNotBeforeItsTimeAndAtMostOneTickAfter() {
        var table = FlowTable<Flow>(capacity: 8, perSourceLimit: 0, timerResolutionNanoseconds: second)
        _ = insert(Flow(key(1), expiresAt: 10 * second + 500), into: &table)
        #expect(table.expire(now: 10 * second + 499, budget: 100) { _ in } == 0)
        #expect(table.expire(now: 11 * second - 1, budget: 100) { _ in } == 0)  // its tick has not passed
        #expect(table.expire(now: 11 * second, budget: 100) { _ in } == 1)
    }

    @Test func aFlowWhoseExpiryMovedLaterIsKeptAndFiledAgain() {
        var table = FlowTable<Flow>(capacity: 8, perSourceLimit: 0)
        let index = insert(Flow(key(1), expiresAt: 10 * second), into: &table)
        table.withEntry(index) { $0.expiresAtNanoseconds = 100 * second }
        #expect(table.expire(now: 50 * second, budget: 100) { _ in } == 0)
        #expect(table.find(key(1)) == index)
        #expect(table.expire(now: 99 * second, budget: 100) { _ in } == 0)
        #expect(table.expire(now: 101 * second, budget: 100) { _ in } == 1)
        #expect(table.find(key(1)) == nil)
    }

    @Test func rescheduleBringsAnEarlierExpiryForward() {
        var table = FlowTable<Flow>(capacity: 8, perSourceLimit: 0)
        let moved = insert(Flow(key(1), expiresAt: 1000 * second), into: &table)
        let notMoved = insert(Flow(key(2), expiresAt: 1000 * second), into: &table)
        table.withEntry(moved) { $0.expiresAtNanoseconds = 5 * second }
        table.reschedule(moved)
        table.withEntry(notMoved) { $0.expiresAtNanoseconds = 5 * second }  // no reschedule: found lazily
        var expired: [FlowKey] = []
        _ = table.expire(now: 10 * second, budget: 100) { expired.append($0.key) }
        #expect(expired == [key(1)])
        _ = table.expire(now: 1001 * second, budget: 100) { expired.append($0.key) }
        #expect(expired == [key(1), key(2)])
    }

    @Test func expiryVisitsAtMostTheBudgetAndCarriesOnFromThere() {
        var table = FlowTable<Flow>(capacity: 1000, perSourceLimit: 0)
        for n in 0..<1000 { _ = insert(Flow(key(n), expiresAt: second, serial: n), into: &table) }
        var serials: [Int] = []
        for call in 1...10 {
            let removed = table.expire(now: 5 * second, budget: 100) { serials.append($0.serial) }
            #expect(removed == 100)
            #expect(table.count == 1000 - 100 * call)
        }
        #expect(serials == Array(0..<1000))
        #expect(table.expire(now: 5 * second, budget: 100) { _ in } == 0)
    }

    @Test func refilingCountsAgainstTheBudget() {
        var table = FlowTable<Flow>(capacity: 100, perSourceLimit: 0)
        var indices: [Int32] = []
        for n in 0..<10 { indices.append(insert(Flow(key(n), expiresAt: second), into: &table)) }
        for index in indices[..<5] { table.withEntry(index) { $0.expiresAtNanoseconds = 50 * second } }
        // Five visits re-file the moved flows and remove nothing.
        #expect(table.expire(now: 3 * second, budget: 5) { _ in } == 0)
        #expect(table.expire(now: 3 * second, budget: 5) { _ in } == 5)
        #expect(table.count == 5)
    }

    @Test func aFlowDueBeyondTheWheelIsKeptUntilItsTime() {
        var table = FlowTable<Flow>(capacity: 8, perSourceLimit: 0)
        _ = insert(Flow(key(1), expiresAt: 10_000 * second), into: &table)  // past 4,096 one-second ticks
        for t in stride(from: Int64(500), through: 9_500, by: 500) {
            #expect(table.expire(now: t * second, budget: 100) { _ in } == 0)
        }
        #expect(table.count == 1)
        #expect(table.expire(now: 10_001 * second, budget: 100) { _ in } == 1)
    }

    @Test func afterALongIdleGapEverythingDueExpiresAndTheRestStays() {
        var table = FlowTable<Flow>(capacity: 100, perSourceLimit: 0)
        for n in 0..<50 { _ = insert(Flow(key(n), expiresAt: Int64(n * 97) * second), into: &table) }
        _ = insert(Flow(key(99), expiresAt: 2_000_000 * second), into: &table)
        #expect(table.expire(now: 1_000_000 * second, budget: 1000) { _ in } == 50)
        #expect(table.count == 1 && table.find(key(99)) != nil)
    }

    @Test func anEntryInsertedAlreadyExpiredGoesOnTheNextTick() {
        var table = FlowTable<Flow>(capacity: 8, perSourceLimit: 0)
        _ = table.expire(now: 100 * second, budget: 10) { _ in }
        _ = insert(Flow(key(1), expiresAt: 5 * second), into: &table, now: 100 * second)
        #expect(table.expire(now: 101 * second, budget: 10) { _ in } == 1)
    }
}

@Suite struct FlowTableLimitTests {
    @Test func aFullTableEvictsTheOldestDroppableFlowNearTheNewKey() {
        // A table this small is looked at whole; a large one only near the new key.
        var table = FlowTable<Flow>(capacity: 4, perSourceLimit: 0)
        _ = insert(Flow(key(1), lastSeen: 40), into: &table)
        _ = insert(Flow(key(2), lastSeen: 10), into: &table)
        _ = insert(Flow(key(3), lastSeen: 5, droppable: false), into: &table)
        _ = insert(Flow(key(4), lastSeen: 20), into: &table)
        var evicted: [FlowKey] = []
        let result = table.insert(Flow(key(5), lastSeen: 50), now: 50) { evicted.append($0.key) }
        guard case .insertedAfterEarlyDrop(let index) = result else {
            Issue.record("expected an early drop, got \(result)")
            return
        }
        #expect(evicted == [key(2)])
        #expect(table.find(key(5)) == index && table.find(key(2)) == nil && table.find(key(3)) != nil)
        #expect(table.count == 4 && table.stats.earlyDropped == 1)
    }

    @Test func aFullTableOfUndroppableFlowsRefusesNewOnes() {
        var table = FlowTable<Flow>(capacity: 4, perSourceLimit: 3)
        let source = IPAddress(v4: 0x0a00_0001)
        for n in 1...2 { _ = insert(Flow(key(n), droppable: false, source: source), into: &table) }
        for n in 3...4 { _ = insert(Flow(key(n), droppable: false), into: &table) }
        #expect(table.insert(Flow(key(5), source: source), now: 0) == .tableFull)
        #expect(table.count == 4 && table.find(key(5)) == nil)
        #expect(table.sourceCount(source) == 2)  // the refused flow was not counted
        #expect(table.stats.insertFailedFull == 1 && table.stats.earlyDropped == 0)
    }

    @Test func theSourceLimitIsCountedAndReleasedOnRemoveAndExpiry() {
        var table = FlowTable<Flow>(capacity: 100, perSourceLimit: 3)
        let a = IPAddress(v4: 0x0a00_0001), b = IPAddress(v6High: 0x2001_0db8_0000_0000, low: 1)
        var aIndices: [Int32] = []
        for n in 0..<3 { aIndices.append(insert(Flow(key(n), expiresAt: Int64(n + 1) * second, source: a), into: &table)) }
        #expect(table.sourceCount(a) == 3)
        #expect(table.insert(Flow(key(10), source: a), now: 0) == .sourceLimit)
        #expect(table.stats.insertFailedSourceLimit == 1)
        _ = insert(Flow(key(11), source: b), into: &table)
        #expect(table.sourceCount(b) == 1)

        table.remove(aIndices[2])
        #expect(table.sourceCount(a) == 2)
        _ = insert(Flow(key(12), expiresAt: 100 * second, source: a), into: &table)
        #expect(table.insert(Flow(key(13), source: a), now: 0) == .sourceLimit)

        #expect(table.expire(now: 10 * second, budget: 100) { _ in } == 2)
        #expect(table.sourceCount(a) == 1)
        _ = insert(Flow(key(13), source: a), into: &table)
        #expect(table.sourceCount(a) == 2)
    }

    @Test func anEvictedFlowReleasesItsSource() {
        var table = FlowTable<Flow>(capacity: 2, perSourceLimit: 1)
        let a = IPAddress(v4: 0x0a00_0001), b = IPAddress(v4: 0x0a00_0002), c = IPAddress(v4: 0x0a00_0003)
        _ = insert(Flow(key(1), lastSeen: 1, source: a), into: &table)
        _ = insert(Flow(key(2), lastSeen: 2, source: b), into: &table)
        #expect(table.insert(Flow(key(3), source: c), now: 3) == .insertedAfterEarlyDrop(index: 0))
        #expect(table.sourceCount(a) == 0 && table.sourceCount(c) == 1)
    }

    @Test(arguments: [0, 1000])
    func withoutALimitOneSourceMayFillTheTable(limit: Int) {
        var table = FlowTable<Flow>(capacity: 1000, perSourceLimit: limit)
        let a = IPAddress(v4: 0x0a00_0001)
        for n in 0..<1000 { _ = insert(Flow(key(n), source: a), into: &table) }
        #expect(table.count == 1000 && table.perSourceLimit == 0 && table.sourceCount(a) == 0)
    }
}

/// 200,000 random operations, checked against a plain model: inserts
/// (with early drop and the source limit in play), lookups of present and
/// absent keys, removals, expiry moved later and earlier, budgeted expiry.
@Suite struct FlowTableDifferentialTests {
    struct Model {
        var index: Int32
        var expiresAt: Int64
        var source: IPAddress
    }

    @Test(arguments: [(capacity: 1024, limit: 0), (capacity: 768, limit: 40)])
    func randomOperationsMatchAModel(capacity: Int, limit: Int) {
        var table = FlowTable<Flow>(capacity: capacity, perSourceLimit: limit, hashSeed: 42)
        var model: [FlowKey: Model] = [:]
        var perSource: [IPAddress: Int] = [:]
        var rng = SplitMix64(seed: 2024)
        let keys = (0..<3000).map { key($0, v6: $0 % 4 == 0) }
        let sources = (0..<64).map { IPAddress(v4: 0xc0a8_0000 | UInt32($0)) }
        var results: [String: Int] = [:]
        var now: Int64 = 0

        func forget(_ flow: Flow) {
            let gone = model.removeValue(forKey: flow.key)
            #expect(gone != nil)
            perSource[flow.sourceAddress, default: 0] -= 1
        }

        for step in 0..<200_000 {
            let k = keys[rng.below(keys.count)]
            switch rng.below(100) {
            case 0..<35:  // insert when absent
                guard model[k] == nil else {
                    #expect(table.find(k) == model[k]!.index)
                    continue
                }
                // Half the flows come from four busy sources.
                let source = sources[rng.below(2) == 0 ? rng.below(4) : rng.below(sources.count)]
                let expiresAt = now + Int64(1 + rng.below(120)) * second
                let flow = Flow(k, expiresAt: expiresAt, lastSeen: now, droppable: rng.below(4) != 0,
                                source: source, serial: step)
                let atLimit = limit > 0 && perSource[source, default: 0] >= limit
                let result = table.insert(flow, now: now) { forget($0) }
                results["\(result)".prefix { $0 != "(" }.description, default: 0] += 1
                switch result {
                case .inserted(let index), .insertedAfterEarlyDrop(let index):
                    #expect(!atLimit)
                    if case .inserted = result { #expect(model.count < capacity) }
                    model[k] = Model(index: index, expiresAt: expiresAt, source: source)
                    perSource[source, default: 0] += 1
                case .sourceLimit:
                    #expect(atLimit)
                case .tableFull:
                    #expect(model.count == capacity)
                }
            case 35..<65:  // look up
                #expect(table.find(k) == model[k]?.index)
            case 65..<75:  // remove
                if let m = model[k] {
                    let flow = table.remove(m.index)
                    #expect(flow.key == k)
                    forget(flow)
                }
            case 75..<85:  // a packet: the expiry moves later, or earlier with a reschedule
                if let m = model[k] {
                    let later = rng.below(3) != 0
                    let expiresAt = later ? m.expiresAt + Int64(rng.below(60)) * second
                                          : now + Int64(rng.below(10)) * second
                    table.withEntry(m.index) { $0.expiresAtNanoseconds = expiresAt; $0.lastSeenNanoseconds = now }
                    if !later { table.reschedule(m.index) }
                    model[k]!.expiresAt = expiresAt
                }
            default:  // time passes: ~0.75 s per 100 operations, so the table fills
                now += Int64(rng.below(100)) * 1_000_000
                _ = table.expire(now: now, budget: 1 + rng.below(64)) { flow in
                    #expect(flow.expiresAtNanoseconds <= now)
                    forget(flow)
                }
            }
            #expect(table.count == model.count)
        }

        for (k, m) in model { #expect(table.find(k) == m.index) }
        for (source, n) in perSource where limit > 0 { #expect(table.sourceCount(source) == n) }
        var visited = 0
        table.forEach { index, flow in
            visited += 1
            #expect(model[flow.key]?.index == index)
        }
        #expect(visited == model.count)
        // Everything still due goes once time moves on far enough.
        _ = table.expire(now: now + 10_000_000 * second, budget: .max) { forget($0) }
        #expect(table.count == 0 && model.isEmpty)
        #expect(perSource.values.allSatisfy { $0 == 0 })
        let s = table.stats
        #expect(s.inserted == s.removed + s.expired + s.earlyDropped)
        // Every outcome was exercised.
        #expect(results["inserted", default: 0] > 1000 && results["insertedAfterEarlyDrop", default: 0] > 1000)
        #expect(results["tableFull", default: 0] > 10)
        #expect((results["sourceLimit", default: 0] > 100) == (limit > 0))
        #expect(s.earlyDropped == results["insertedAfterEarlyDrop"] && s.insertFailedFull == results["tableFull"])
    }
}
