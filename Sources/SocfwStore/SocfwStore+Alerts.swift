internal import GRDB

extension SocfwStore {
    /// Stores a batch of alerts in one transaction; an `id` of 0 is assigned by SQLite, any
    /// other is kept (socfwd numbers its alerts itself so that events and rows agree).
    public func insertAlerts(_ batch: [AlertRecord]) throws(StoreError) {
        guard !batch.isEmpty else { return }
        try write("insert \(batch.count) alerts") { db in try Self.insertAlerts(batch, in: db) }
    }

    /// Inserts inside the caller's transaction (`StoreWriter` batches alerts with audit entries).
    static func insertAlerts(_ batch: some Sequence<AlertRecord>, in db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO alerts (id, timestamp, source, severity, title, message, signature_id, src_ip, dst_ip,
                                acknowledged, acknowledged_by, acknowledged_at, eve)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for a in batch {
            try statement.execute(arguments: [
                a.id > 0 ? a.id : nil, a.timestamp, a.source, a.severity, a.title, a.message, a.signatureID, a.srcIP, a.dstIP,
                a.acknowledged, a.acknowledgedBy, a.acknowledgedAt, a.eve,
            ])
        }
    }

    /// The newest `limit` alerts (only unacknowledged ones when `openOnly`), newest first.
    public func alerts(limit: Int, openOnly: Bool = false) throws(StoreError) -> [AlertRecord] {
        try alerts(AlertQuery(limit: limit, openOnly: openOnly))
    }

    /// The alerts `query` selects, newest (highest id) first.
    public func alerts(_ query: AlertQuery) throws(StoreError) -> [AlertRecord] {
        try read("list alerts") { db in
            let (clause, arguments) = query.sqlFilter
            // A cursor's rows read the statement's columns in place; fetchAll
            // would copy every row into DatabaseValues first.
            // Cached: one prepared statement per filter combination.
            let statement = try db.cachedStatement(sql: "SELECT \(AlertRecord.columns) FROM alerts \(clause) ORDER BY id DESC LIMIT ?")
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(arguments + [query.limit]))
            var page: [AlertRecord] = []
            page.reserveCapacity(query.limit)
            while let row = try rows.next() { page.append(try AlertRecord(row: row)) }
            return page
        }
    }

    /// One alert by id, or nil.
    public func alert(id: Int64) throws(StoreError) -> AlertRecord? {
        try read("alert \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT \(AlertRecord.columns) FROM alerts WHERE id = ?", arguments: [id]).map(AlertRecord.init(row:))
        }
    }

    /// The highest alert id stored (0 when there is none): socfwd numbers new alerts after it.
    public func maxAlertID() throws(StoreError) -> Int64 {
        try read("highest alert id") { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM alerts") ?? 0 }
    }

    /// Marks an open alert acknowledged by `actor` at `time`. Returns the updated alert, or nil
    /// when no unacknowledged alert has that id (the first acknowledgement is kept).
    public func acknowledgeAlert(id: Int64, by actor: String, at time: Int64) throws(StoreError) -> AlertRecord? {
        try write("acknowledge alert \(id)") { db in
            try Row.fetchOne(db, sql: """
                UPDATE alerts SET acknowledged = 1, acknowledged_by = ?, acknowledged_at = ?
                WHERE id = ? AND acknowledged = 0 RETURNING \(AlertRecord.columns)
                """, arguments: [actor, time, id]).map(AlertRecord.init(row:))
        }
    }
}
