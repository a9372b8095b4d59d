internal import GRDB

extension SocfwStore {
    /// Stores a quarantine (its `id` is ignored) and returns the new row's id.
    public func insertQuarantine(_ record: QuarantineRecord) throws(StoreError) -> Int64 {
        try write("insert quarantine") { db in try Self.insert(record, in: db) }
    }

    /// Stores many quarantines in one transaction (one fsync); returns their ids in order.
    public func insertQuarantines(_ records: [QuarantineRecord]) throws(StoreError) -> [Int64] {
        guard records.count > 1 else {
            return try write("insert quarantines") { db in try records.map { try Self.insert($0, in: db) } }
        }
        // Bulk: ids assigned here, inside the write transaction, and rows
        // inserted `rowsPerStatement` at a time (a third of the time of one
        // statement per row for 100,000 rows).
        return try write("insert quarantines") { db in
            let first = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM quarantine") ?? 0) + 1
            var index = 0
            while index < records.count {
                let n = min(Self.rowsPerStatement, records.count - index)
                let statement = try db.cachedStatement(sql: Self.bulkInsertSQL(rows: n))
                var values: [(any DatabaseValueConvertible)?] = []
                values.reserveCapacity(n * 12)
                for (offset, r) in records[index..<index + n].enumerated() {
                    values.append(first + Int64(index + offset))
                    values.append(contentsOf: [
                        r.target, r.reason, r.action.rawValue, r.source.rawValue, r.timestamp, r.expires,
                        r.description, r.active, r.releasedAt, r.releasedBy, r.offence,
                    ] as [(any DatabaseValueConvertible)?])
                }
                try statement.execute(arguments: StatementArguments(values))
                index += n
            }
            return (0..<Int64(records.count)).map { first + $0 }
        }
    }

    static let rowsPerStatement = 64

    static func bulkInsertSQL(rows: Int) -> String {
        "INSERT INTO quarantine (id, target, reason, action, source, timestamp, expires, description, "
            + "active, released_at, released_by, offence) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    /// Deletes rows by id: only for a batch whose audit row could not be
    /// written (never audited, so never part of the chain's story).
    public func deleteQuarantines(ids: [Int64]) throws(StoreError) {
        try write("delete quarantines") { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM quarantine WHERE id = ?")
            for id in ids { try statement.execute(arguments: [id]) }
        }
    }

    private static func insert(_ r: QuarantineRecord, in db: Database) throws -> Int64 {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO quarantine (target, reason, action, source, timestamp, expires, description,
                                    active, released_at, released_by, offence)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [
            r.target, r.reason, r.action.rawValue, r.source.rawValue, r.timestamp, r.expires,
            r.description, r.active, r.releasedAt, r.releasedBy, r.offence,
        ])
        return db.lastInsertedRowID
    }

    /// Releases an active quarantine: `active = 0`, `released_at = at`, `released_by = by`.
    /// Returns the updated row, or nil when no active quarantine has that id.
    public func release(id: Int64, by actor: String, at time: Int64) throws(StoreError) -> QuarantineRecord? {
        try write("release quarantine \(id)") { db in
            try Row.fetchOne(db, sql: """
                UPDATE quarantine SET active = 0, released_at = ?, released_by = ?
                WHERE id = ? AND active = 1 RETURNING *
                """, arguments: [time, actor, id]).map(QuarantineRecord.init(row:))
        }
    }

    /// Active quarantines not yet expired at `now`, oldest first: what the kernel sets should hold.
    public func activeQuarantines(now: Int64) throws(StoreError) -> [QuarantineRecord] {
        try read("list active quarantines") { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM quarantine WHERE active = 1 AND (expires IS NULL OR expires > ?) ORDER BY id
                """, arguments: [now]).map(QuarantineRecord.init(row:))
        }
    }

    /// Deactivates every active quarantine whose `expires <= now`, with `released_by = "expiry"`
    /// and `released_at` = its `expires` (when the kernel dropped it, even if socfwd was down).
    /// Returns the rows it deactivated, oldest first.
    public func expireQuarantines(now: Int64) throws(StoreError) -> [QuarantineRecord] {
        try write("expire quarantines") { db in
            try Row.fetchAll(db, sql: """
                UPDATE quarantine SET active = 0, released_at = expires, released_by = 'expiry'
                WHERE active = 1 AND expires IS NOT NULL AND expires <= ? RETURNING *
                """, arguments: [now]).map(QuarantineRecord.init(row:)).sorted { $0.id < $1.id }
        }
    }

    /// Quarantines of `target` (or of every target when nil), active or not, newest first.
    public func quarantineHistory(target: String?, limit: Int) throws(StoreError) -> [QuarantineRecord] {
        try read("quarantine history") { db in
            let rows = if let target {
                try Row.fetchAll(db, sql: """
                    SELECT * FROM quarantine WHERE target = ? ORDER BY timestamp DESC, id DESC LIMIT ?
                    """, arguments: [target, limit])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM quarantine ORDER BY timestamp DESC, id DESC LIMIT ?",
                                 arguments: [limit])
            }
            return try rows.map(QuarantineRecord.init(row:))
        }
    }

    /// How many times `target` was quarantined at or after `since` (ns), for escalating the
    /// duration of repeat offences.
    public func offenceCount(target: String, since: Int64) throws(StoreError) -> Int {
        try read("count offences of \(target)") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine WHERE target = ? AND timestamp >= ?",
                             arguments: [target, since]) ?? 0
        }
    }
}
