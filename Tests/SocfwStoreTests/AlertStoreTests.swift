import SocfwStore
import Testing

@Suite struct AlertStoreTests {
    @Test func batchIsListedNewestFirstAndAcknowledgedOnce() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            try store.insertAlerts((1...5).map { i in
                AlertRecord(timestamp: Int64(i) * 10, source: "signature", severity: 1 + i % 3, title: "alert \(i)",
                            message: "m\(i)", signatureID: 2_000_000 + Int64(i), srcIP: "192.0.2.\(i)",
                            dstIP: "198.51.100.1", eve: #"{"event_type":"alert"}"#)
            })
            let newest = try store.alerts(limit: 3)
            #expect(newest.map(\.title) == ["alert 5", "alert 4", "alert 3"])
            #expect(newest[0].signatureID == 2_000_005 && newest[0].srcIP == "192.0.2.5" && !newest[0].acknowledged)

            let acknowledged = try store.acknowledgeAlert(id: newest[0].id, by: "operator:alice", at: 99)
            #expect(acknowledged?.acknowledged == true)
            #expect(acknowledged?.acknowledgedBy == "operator:alice")
            #expect(acknowledged?.acknowledgedAt == 99)
            #expect(try store.acknowledgeAlert(id: newest[0].id, by: "operator:bob", at: 100) == nil)
            #expect(try store.acknowledgeAlert(id: 12_345, by: "operator:bob", at: 100) == nil)

            #expect(try store.alerts(limit: 10, openOnly: true).map(\.title) == ["alert 4", "alert 3", "alert 2", "alert 1"])
            #expect(try store.alerts(limit: 10).count == 5)
        }
    }
}
