internal import GRDB
internal import GRDBSQLite

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

    /// In one read snapshot: the highest stored id, then `visit` with each
    /// row `query` selects, newest first, read in place from the statement
    /// (no strings are made); `visit` returns false to stop. `AlertBook`
    /// renders pages this way.
    func withAlertRows(_ query: AlertQuery, _ body: (_ highestID: Int64, _ rows: inout AlertRows) throws -> Void)
        throws(StoreError) {
        try read("list alerts") { db in
            let highest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM alerts")) ?? 0
            let (clause, arguments) = query.sqlFilter
            let statement = try db.cachedStatement(sql: "SELECT \(AlertRecord.columns) FROM alerts \(clause) ORDER BY id DESC LIMIT ?")
            var rows = AlertRows(cursor: try Row.fetchCursor(statement, arguments: StatementArguments(arguments + [query.limit])),
                                 sqliteStatement: statement.sqliteStatement)
            try body(highest, &rows)
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
        try read("highest alert id") { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM alerts")) ?? 0 }
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

/// The rows of an alerts query, one at a time; each `AlertRowView` is valid
/// until the next call to `next`.
struct AlertRows {
    /// Steps the statement (and resets it when done).
    let cursor: RowCursor
    /// The statement `cursor` steps, whose current row is read in place.
    let sqliteStatement: OpaquePointer

    mutating func next() throws -> AlertRowView? {
        guard try cursor.next() != nil else { return nil }
        return AlertRowView(statement: sqliteStatement)
    }
}

/// One row of `alerts` read in place, in `AlertRecord.columns`' order,
/// straight from the SQLite statement: text is the statement's own bytes,
/// valid only until the cursor moves (the caller is called with each row).
public struct AlertRowView {
    fileprivate let statement: OpaquePointer

    public enum Column: Int32 {
        case id, timestamp, source, severity, title, message, signatureID, srcIP, dstIP
        case acknowledged, acknowledgedBy, acknowledgedAt, eve
    }

    public var id: Int64 { sqlite3_column_int64(statement, Column.id.rawValue) }

    /// An integer column; nil when NULL.
    public func integer(_ column: Column) -> Int64? {
        sqlite3_column_type(statement, column.rawValue) == SQLITE_NULL
            ? nil : sqlite3_column_int64(statement, column.rawValue)
    }

    /// A text column's UTF-8 bytes (nil when NULL), valid while this row is.
    public func text(_ column: Column) -> UnsafeRawBufferPointer? {
        guard let bytes = sqlite3_column_text(statement, column.rawValue) else { return nil }
        return UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column.rawValue)))
    }
}

extension AlertRecord {
    /// The record of a row read in place.
    public init(_ row: AlertRowView) {
        func text(_ column: AlertRowView.Column) -> String? {
            row.text(column).map { String(decoding: $0, as: UTF8.self) }
        }
        self.init(id: row.id, timestamp: row.integer(.timestamp) ?? 0, source: text(.source) ?? "",
                  severity: Int(row.integer(.severity) ?? 0), title: text(.title) ?? "", message: text(.message) ?? "",
                  signatureID: row.integer(.signatureID), srcIP: text(.srcIP), dstIP: text(.dstIP),
                  acknowledged: row.integer(.acknowledged) ?? 0 != 0, acknowledgedBy: text(.acknowledgedBy),
                  acknowledgedAt: row.integer(.acknowledgedAt), eve: text(.eve))
    }
}
