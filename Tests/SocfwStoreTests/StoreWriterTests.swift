import Dispatch
import Foundation
import SocfwStore
import Synchronization
import Testing

@Suite struct StoreWriterTests {
    private func alert(_ title: String, at time: Int64 = 1) -> AlertRecord {
        AlertRecord(timestamp: time, source: "rule", severity: 2, title: title, message: "test")
    }

    @Test func tenThousandAlertsFromFourThreadsAreAllWrittenAfterFlush() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db")
            let writer = StoreWriter(store: store)
            let refused = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 4) { thread in
                for i in 0..<2_500 where !writer.enqueue(.alert(alert("t\(thread)-\(i)", at: Int64(i)))) {
                    refused.add(1, ordering: .relaxed)
                }
            }
            writer.flush()
            #expect(refused.load(ordering: .relaxed) == 0)
            #expect(writer.enqueued == 10_000)
            #expect(writer.written == 10_000)
            #expect(writer.dropped == 0 && writer.failed == 0)
            #expect(Set(try store.alerts(limit: 20_000).map(\.title)).count == 10_000)
        }
    }

    @Test func fullQueueCountsDropsWithoutBlocking() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let writer = StoreWriter(store: store, capacity: 4)
            let started = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            // Keeps the writer thread busy; counts as one of the 4 outstanding jobs.
            #expect(writer.enqueue(.custom { _ in started.signal(); release.wait() }))
            started.wait()
            for i in 0..<3 { #expect(writer.enqueue(.alert(alert("a\(i)")))) }

            let clock = ContinuousClock()
            let refused = clock.measure {
                for i in 0..<1_000 { #expect(!writer.enqueue(.alert(alert("b\(i)")))) }
            }
            #expect(refused < .milliseconds(500), "refusing 1,000 jobs took \(refused)")
            #expect(writer.dropped == 1_000)

            release.signal()
            writer.flush()
            #expect(writer.written == 4)
            #expect(try store.alerts(limit: 10).count == 3)
            #expect(writer.enqueue(.alert(alert("after"))), "room again once the batch is written")
        }
    }

    @Test func failedJobIsCountedAndReportedWithoutLosingItsNeighbours() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let errors = Mutex<[StoreError]>([])
            let writer = StoreWriter(store: store) { error in errors.withLock { $0.append(error) } }
            struct Boom: Error {}
            writer.enqueue(.alert(alert("before")))
            writer.enqueue(.custom { _ in throw Boom() })
            writer.enqueue(.alert(alert("after")))
            writer.flush()
            #expect(writer.failed == 1 && writer.written == 2)
            #expect(try store.alerts(limit: 10).count == 2)
            let reported = errors.withLock { $0 }
            #expect(reported.count == 1)
            #expect(reported.first?.operation == "custom write job")
        }
    }

    @Test func auditEntriesBatchedWithAlertsKeepTheChain() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let writer = StoreWriter(store: store, maxBatch: 64)
            for i in 0..<500 {
                writer.enqueue(.alert(alert("a\(i)")))
                if i % 5 == 0 {
                    writer.enqueue(.audit(actor: "detector:portscan", action: "quarantine", details: #"{"i":\#(i)}"#, at: Int64(i)))
                }
            }
            writer.flush()
            #expect(try store.verifyAudit() == .intact(rows: 100))
            #expect(try store.auditLog(limit: 1).first?.details == #"{"i":495}"#)
        }
    }

    @Test func stopWritesWhatIsQueuedThenRefusesMore() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let writer = StoreWriter(store: store)
            for i in 0..<100 { writer.enqueue(.alert(alert("a\(i)"))) }
            writer.stop()
            #expect(try store.alerts(limit: 1_000).count == 100)
            #expect(!writer.enqueue(.alert(alert("late"))))
            #expect(writer.dropped == 1)
            writer.flush()
            writer.stop()
        }
    }
}
