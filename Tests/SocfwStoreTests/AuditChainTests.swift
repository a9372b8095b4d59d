import GRDB
import SocfwStore
import Testing

@Suite struct AuditChainTests {
    /// Ways to tamper with a 1,000-row chain by raw SQL, and where verification must say it broke.
    enum Tamper: String, CaseIterable, CustomTestStringConvertible {
        case editDetails, deleteMiddleRow, deleteFirstRow, appendForgedRow, insertRowBeforeFirst, rewriteRowAndHash

        var testDescription: String { rawValue }

        func apply(_ db: Database) throws {
            switch self {
            case .editDetails:
                try db.execute(sql: #"UPDATE audit_log SET details = '{"n":"forged"}' WHERE id = 500"#)
            case .deleteMiddleRow:
                try db.execute(sql: "DELETE FROM audit_log WHERE id = 500")
            case .deleteFirstRow:
                try db.execute(sql: "DELETE FROM audit_log WHERE id = 1")
            case .appendForgedRow:
                // Links correctly to the last row but cannot produce a hash of its own content
                // without the canonical encoding; copies the last hash instead.
                try db.execute(sql: """
                    INSERT INTO audit_log (id, timestamp, actor, action, details, prev_hash, hash)
                    SELECT 1001, timestamp + 1, 'operator:mallory', 'release', '{}', hash, hash
                    FROM audit_log WHERE id = 1000
                    """)
            case .insertRowBeforeFirst:
                try db.execute(sql: """
                    INSERT INTO audit_log (id, timestamp, actor, action, details, prev_hash, hash)
                    VALUES (0, 0, 'operator:mallory', 'reload', '{}', ?, ?)
                    """, arguments: [AuditRecord.genesisHash, AuditRecord.genesisHash])
            case .rewriteRowAndHash:
                // The row itself verifies after this; only its successor's prev_hash betrays it.
                let row = try Row.fetchOne(db, sql: "SELECT timestamp, actor, action, prev_hash FROM audit_log WHERE id = 500")!
                let details = #"{"n":"rewritten"}"#
                let hash = AuditRecord.chainHash(id: 500, timestamp: row[0], actor: row[1], action: row[2],
                                                 details: details, prevHash: row[3])
                try db.execute(sql: "UPDATE audit_log SET details = ?, hash = ? WHERE id = 500", arguments: [details, hash])
            }
        }

        var expectedRow: Int64 {
            switch self {
            case .editDetails, .deleteMiddleRow, .rewriteRowAndHash: 500
            case .deleteFirstRow: 1
            case .appendForgedRow: 1001
            case .insertRowBeforeFirst: 0
            }
        }

        var expectedReason: String {
            switch self {
            case .editDetails, .appendForgedRow: "does not match its hash"
            case .deleteMiddleRow, .deleteFirstRow: "missing (deleted)"
            case .insertRowBeforeFirst: "inserted"
            case .rewriteRowAndHash: "rewritten together with its hash"
            }
        }
    }

    private func chain(of rows: Int, in dir: String) throws -> SocfwStore {
        let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
        for n in 1...rows {
            try store.appendAudit(actor: n % 2 == 0 ? "operator:alice" : "detector:portscan", action: "quarantine",
                                  details: #"{"n":\#(n)}"#, at: Int64(n) * 1_000)
        }
        return store
    }

    @Test func chainOfAThousandRowsVerifiesIntact() throws {
        try withTemporaryDirectory { dir in
            let store = try chain(of: 1_000, in: dir)
            #expect(try store.verifyAudit() == .intact(rows: 1_000))
            let newest = try store.auditLog(limit: 2)
            #expect(newest.map(\.id) == [1_000, 999])
            #expect(newest[0].prevHash == newest[1].hash)
            #expect(try store.auditLog(limit: 1_000).last?.prevHash == AuditRecord.genesisHash)
        }
    }

    @Test func emptyLogIsIntact() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db")
            #expect(try store.verifyAudit() == .intact(rows: 0))
        }
    }

    @Test(arguments: Tamper.allCases)
    func tamperingBySQLIsCaughtAtTheRightRow(_ tamper: Tamper) throws {
        try withTemporaryDirectory { dir in
            let store = try chain(of: 1_000, in: dir)
            try DatabaseQueue(path: dir + "/socfw.db").write { try tamper.apply($0) }
            let result = try store.verifyAudit()
            guard case .broken(let rowID, let reason) = result else {
                Issue.record("\(tamper): expected a broken chain, got \(result)")
                return
            }
            #expect(rowID == tamper.expectedRow, "\(reason)")
            #expect(reason.contains(tamper.expectedReason), "\(reason)")
        }
    }

    @Test func lengthPrefixesKeepShiftedFieldsApart() {
        let a = AuditRecord.chainHash(id: 1, timestamp: 1, actor: "ab", action: "c", details: "{}", prevHash: AuditRecord.genesisHash)
        let b = AuditRecord.chainHash(id: 1, timestamp: 1, actor: "a", action: "bc", details: "{}", prevHash: AuditRecord.genesisHash)
        #expect(a != b)
        #expect(a.count == 64 && a.allSatisfy { "0123456789abcdef".contains($0) })
    }
}
