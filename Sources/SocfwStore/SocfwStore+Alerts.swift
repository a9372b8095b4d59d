internal import GRDB

extension SocfwStore {
    /// Stores a batch of alerts (their `id`s are ignored) in one transaction.
    public func insertAlerts(_ batch: [AlertRecord]) throws(StoreError) {
        guard !batch.isEmpty else { return }
        try write("insert \(batch.count) alerts") { db in try Self.insertAlerts(batch, in: db) }
    }

    /// Inserts inside the caller's transaction (`StoreWriter` batches alerts with audit entries).
    static func insertAlerts(_ batch: some Sequence<AlertRecord>, in db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO alerts (timestamp, source, severity, title, message, signature_id, src_ip, dst_ip,
                                acknowledged, acknowledged_by, acknowledged_at, eve)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for a in batch {
            try statement.execute(arguments: [
                a.timestamp, a.source, a.severity, a.title, a.message, a.signatureID, a.srcIP, a.dstIP,
                a.acknowledged, a.acknowledgedBy, a.acknowledgedAt, a.eve,
            ])
        }
    }

    /// The newest `limit` alerts (only unacknowledged ones when `openOnly`), newest first.
    public func alerts(limit: Int, openOnly: Bool = false) throws(StoreError) -> [AlertRecord] {
        try read("list alerts") { db in
            let filter = openOnly ? "WHERE acknowledged = 0" : ""
            return try Row.fetchAll(db, sql: "SELECT * FROM alerts \(filter) ORDER BY timestamp DESC, id DESC LIMIT ?",
                                    arguments: [limit]).map(AlertRecord.init(row:))
        }
    }

    /// Marks an open alert acknowledged by `actor` at `time`. Returns the updated alert, or nil
    /// when no unacknowledged alert has that id (the first acknowledgement is kept).
    public func acknowledgeAlert(id: Int64, by actor: String, at time: Int64) throws(StoreError) -> AlertRecord? {
        try write("acknowledge alert \(id)") { db in
            try Row.fetchOne(db, sql: """
                UPDATE alerts SET acknowledged = 1, acknowledged_by = ?, acknowledged_at = ?
                WHERE id = ? AND acknowledged = 0 RETURNING *
                """, arguments: [actor, time, id]).map(AlertRecord.init(row:))
        }
    }
}
