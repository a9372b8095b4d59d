internal import GRDB

extension SocfwStore {
    /// Appends an audit entry chained to the newest row and returns it.
    ///
    /// Reading the last hash and inserting happen in one `BEGIN IMMEDIATE` transaction, so
    /// concurrent appends (from any thread, or another process) serialise and never fork the chain.
    @discardableResult
    public func appendAudit(actor: String, action: String, details: String, at time: Int64) throws(StoreError) -> AuditRecord {
        try write("append audit entry") { db in
            try Self.appendAudit(actor: actor, action: action, details: details, at: time, in: db)
        }
    }

    /// Appends inside the caller's write transaction (`StoreWriter` batches entries).
    static func appendAudit(actor: String, action: String, details: String, at time: Int64,
                            in db: Database) throws -> AuditRecord {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"))
        let id: Int64 = try (last?.decode(Int64.self, atIndex: 0) ?? 0) + 1
        let prevHash: String = try last?.decode(String.self, atIndex: 1) ?? AuditRecord.genesisHash
        let hash = AuditRecord.chainHash(id: id, timestamp: time, actor: actor, action: action,
                                         details: details, prevHash: prevHash)
        try db.cachedStatement(sql: """
            INSERT INTO audit_log (id, timestamp, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [id, time, actor, action, details, prevHash, hash])
        return AuditRecord(id: id, timestamp: time, actor: actor, action: action, details: details,
                           prevHash: prevHash, hash: hash)
    }

    /// The newest `limit` audit entries, newest first.
    public func auditLog(limit: Int) throws(StoreError) -> [AuditRecord] {
        try read("list audit log") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map(AuditRecord.init(row:))
        }
    }

    /// Walks the whole chain in id order, in one read snapshot, and reports the first break:
    /// - a row whose content no longer matches its hash: edited (or a forged row);
    /// - a gap in the ids: the missing rows were deleted;
    /// - a row whose `prev_hash` is not the hash of the row before it while its own hash is
    ///   consistent: the row before was rewritten together with its hash (or this one forged).
    ///
    /// Truncation of the newest rows, or a rewrite of the whole tail with recomputed hashes,
    /// is only visible against a head hash recorded elsewhere (see the file header).
    public func verifyAudit() throws(StoreError) -> AuditVerification {
        try read("verify audit log") { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, timestamp, actor, action, details, prev_hash, hash FROM audit_log ORDER BY id
                """)
            var previous: (id: Int64, hash: String)?
            var count = 0
            while let row = try rows.next() {
                let id: Int64 = try row.decode(atIndex: 0)
                let expectedID = (previous?.id ?? 0) + 1
                if id < expectedID {
                    return .broken(rowID: id, reason: "row \(id) has an id before the first row (1): inserted")
                }
                if id > expectedID {
                    let missing = expectedID == id - 1 ? "row \(expectedID) is" : "rows \(expectedID)...\(id - 1) are"
                    let after = previous.map { "row \($0.id)" } ?? "the start of the log"
                    return .broken(rowID: expectedID, reason: "\(missing) missing (deleted): row \(id) follows \(after)")
                }
                guard let timestamp = Self.integer(row[1]), let actor = Self.text(row[2]),
                      let action = Self.text(row[3]), let details = Self.text(row[4]),
                      let prevHash = Self.text(row[5]), let hash = Self.text(row[6]) else {
                    return .broken(rowID: id, reason: "row \(id) has a column of the wrong type: edited")
                }
                let consistent = hash == AuditRecord.chainHash(id: id, timestamp: timestamp, actor: actor,
                                                               action: action, details: details, prevHash: prevHash)
                let expectedPrev = previous?.hash ?? AuditRecord.genesisHash
                if prevHash != expectedPrev {
                    guard let previous else {
                        return .broken(rowID: id, reason: "row \(id)'s prev_hash is not the genesis value: edited")
                    }
                    if consistent {
                        return .broken(rowID: previous.id, reason: """
                            row \(previous.id)'s hash is not the prev_hash recorded by row \(id): row \(previous.id) \
                            was rewritten together with its hash (or row \(id) was forged)
                            """)
                    }
                    return .broken(rowID: id, reason: "row \(id) matches neither its hash nor row \(previous.id)'s: edited or inserted")
                }
                if !consistent {
                    return .broken(rowID: id, reason: "row \(id)'s content does not match its hash: edited or inserted")
                }
                previous = (id, hash)
                count += 1
            }
            return .intact(rows: count)
        }
    }

    // Tolerant reads for verification: a tampered row may hold any SQLite type; report it
    // instead of trapping on a failed conversion.
    private static func integer(_ value: DatabaseValue) -> Int64? {
        if case .int64(let v) = value.storage { v } else { nil }
    }

    private static func text(_ value: DatabaseValue) -> String? {
        if case .string(let v) = value.storage { v } else { nil }
    }
}
