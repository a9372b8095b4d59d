import Foundation
import SocfwStore
import Testing

/// Throughput figures, printed; run with SOCFW_STORE_BENCH=1 (not in CI: durable audit appends
/// cost one fsync each).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SOCFW_STORE_BENCH"] != nil))
struct StoreBenchmarkTests {
    @Test(arguments: [true, false])
    func throughput(durableCommits: Bool) throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: durableCommits)
            let clock = ContinuousClock()
            let writer = StoreWriter(store: store)
            let alerts = clock.measure {
                for i in 0..<10_000 {
                    writer.enqueue(.alert(AlertRecord(timestamp: Int64(i), source: "signature", severity: 2,
                                                      title: "ET SCAN probe \(i)", message: "probe from 192.0.2.1",
                                                      signatureID: 2_010_935, srcIP: "192.0.2.1", dstIP: "198.51.100.7",
                                                      eve: #"{"event_type":"alert","n":\#(i)}"#)))
                }
                writer.flush()
            }
            #expect(writer.written == 10_000)
            let audit = try clock.measure {
                for i in 0..<10_000 {
                    try store.appendAudit(actor: "operator:alice", action: "quarantine",
                                          details: #"{"target":"192.0.2.\#(i % 250)","duration_s":3600}"#, at: Int64(i))
                }
            }
            var verdict = AuditVerification.intact(rows: 0)
            let verify = try clock.measure { verdict = try store.verifyAudit() }
            #expect(verdict == .intact(rows: 10_000))
            print("store-bench durableCommits=\(durableCommits): 10,000 alerts via StoreWriter \(alerts), "
                  + "10,000 appendAudit \(audit), verifyAudit of 10,000 rows \(verify)")
        }
    }

    @Test func bulkQuarantineInsert() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: true)
            var rng = SystemRandomNumberGenerator()
            let records = (0..<100_000).map { i in
                QuarantineRecord(target: "\(UInt8.random(in: 1...223, using: &rng)).\(i >> 16).\((i >> 8) & 255).\(i & 255)", reason: "bench", action: .drop,
                                 source: .operator, timestamp: Int64(i), expires: Int64(i) + 3_600_000_000_000)
            }
            let clock = ContinuousClock()
            var ids: [Int64] = []
            let bulk = try clock.measure { ids = try store.insertQuarantines(records) }
            #expect(ids.count == 100_000 && ids.first == 1 && ids.last == 100_000)
            print("store-bench: 100,000 quarantine rows in one transaction \(bulk)")
        }
    }
}
