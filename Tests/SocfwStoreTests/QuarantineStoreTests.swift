import SocfwStore
import Testing

@Suite struct QuarantineStoreTests {
    private func record(_ target: String, at time: Int64, expires: Int64? = nil,
                        source: QuarantineSource = .detector, offence: Int = 1) -> QuarantineRecord {
        QuarantineRecord(target: target, reason: "scan", action: .drop, source: source, timestamp: time,
                         expires: expires, description: "test", offence: offence)
    }

    @Test func insertedQuarantinesAreListedUntilTheyExpire() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let permanent = try store.insertQuarantine(record("192.0.2.1", at: 10))
            let short = try store.insertQuarantine(record("192.0.2.2", at: 20, expires: 100))
            let long = try store.insertQuarantine(record("2001:db8::/48", at: 30, expires: 200))
            #expect(try store.activeQuarantines(now: 50).map(\.id) == [permanent, short, long])
            #expect(try store.activeQuarantines(now: 150).map(\.id) == [permanent, long])
            #expect(try store.activeQuarantines(now: 150).first?.expires == nil)
        }
    }

    @Test func expiryDeactivatesDueRowsAsReleasedByExpiryAtTheirExpiryTime() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            _ = try store.insertQuarantine(record("192.0.2.1", at: 10))
            let short = try store.insertQuarantine(record("192.0.2.2", at: 20, expires: 100))
            let exact = try store.insertQuarantine(record("192.0.2.3", at: 20, expires: 150))
            _ = try store.insertQuarantine(record("192.0.2.4", at: 30, expires: 200))
            let expired = try store.expireQuarantines(now: 150)
            #expect(expired.map(\.id) == [short, exact])
            #expect(expired.allSatisfy { !$0.active && $0.releasedBy == "expiry" })
            #expect(expired.map(\.releasedAt) == [100, 150])
            #expect(try store.expireQuarantines(now: 150).isEmpty)
            #expect(try store.activeQuarantines(now: 150).map(\.target) == ["192.0.2.1", "192.0.2.4"])
        }
    }

    @Test func releaseDeactivatesOnceAndReturnsTheRow() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let id = try store.insertQuarantine(record("198.51.100.0/24", at: 10, source: .operator))
            let released = try store.release(id: id, by: "operator:alice", at: 50)
            #expect(released?.active == false)
            #expect(released?.releasedBy == "operator:alice")
            #expect(released?.releasedAt == 50)
            #expect(released?.source == .operator)
            #expect(try store.release(id: id, by: "operator:bob", at: 60) == nil)
            #expect(try store.release(id: 999, by: "operator:bob", at: 60) == nil)
            #expect(try store.activeQuarantines(now: 60).isEmpty)
        }
    }

    @Test func historyIsNewestFirstAndOffencesAreCountedSinceATime() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let ids = try store.insertQuarantines([
                record("192.0.2.9", at: 100, expires: 150),
                record("192.0.2.10", at: 150),
                record("192.0.2.9", at: 200, expires: 300, offence: 2),
                record("192.0.2.9", at: 400, offence: 3),
            ])
            #expect(try store.quarantineHistory(target: "192.0.2.9", limit: 10).map(\.id) == [ids[3], ids[2], ids[0]])
            #expect(try store.quarantineHistory(target: "192.0.2.9", limit: 2).map(\.offence) == [3, 2])
            #expect(try store.quarantineHistory(target: nil, limit: 10).map(\.id) == ids.reversed())
            #expect(try store.offenceCount(target: "192.0.2.9", since: 0) == 3)
            #expect(try store.offenceCount(target: "192.0.2.9", since: 200) == 2)
            #expect(try store.offenceCount(target: "192.0.2.77", since: 0) == 0)
        }
    }
}
