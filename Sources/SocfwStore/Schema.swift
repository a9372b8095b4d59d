internal import GRDB

/// The versioned schema. Migrations are append-only: a released migration is never edited,
/// a change is a new migration named `vN-what-it-does`. GRDB records the applied names in
/// `grdb_migrations`, so a database opened by an older socfwd is brought forward at open.
enum Schema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-quarantine-alerts-audit") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2-alert-filters-api-tokens") { db in
            try db.execute(sql: v2)
        }
        return migrator
    }()

    /// The seed schema. Times are nanoseconds since the Unix epoch; booleans 0/1.
    private static let v1 = """
        CREATE TABLE quarantine (
            id          INTEGER PRIMARY KEY,
            target      TEXT    NOT NULL,
            reason      TEXT    NOT NULL,
            action      TEXT    NOT NULL CHECK (action IN ('drop', 'reject')),
            source      TEXT    NOT NULL CHECK (source IN ('rule', 'detector', 'intel', 'operator', 'api')),
            timestamp   INTEGER NOT NULL,
            expires     INTEGER,
            description TEXT,
            active      INTEGER NOT NULL CHECK (active IN (0, 1)),
            released_at INTEGER,
            released_by TEXT,
            offence     INTEGER NOT NULL DEFAULT 1 CHECK (offence >= 1)
        );
        CREATE INDEX quarantine_active_expires ON quarantine (active, expires);
        CREATE INDEX quarantine_target ON quarantine (target);

        CREATE TABLE alerts (
            id              INTEGER PRIMARY KEY,
            timestamp       INTEGER NOT NULL,
            source          TEXT    NOT NULL,
            severity        INTEGER NOT NULL,
            title           TEXT    NOT NULL,
            message         TEXT    NOT NULL,
            signature_id    INTEGER,
            src_ip          TEXT,
            dst_ip          TEXT,
            acknowledged    INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1)),
            acknowledged_by TEXT,
            acknowledged_at INTEGER,
            eve             TEXT
        );
        CREATE INDEX alerts_timestamp ON alerts (timestamp);
        CREATE INDEX alerts_acknowledged ON alerts (acknowledged);

        CREATE TABLE audit_log (
            id        INTEGER PRIMARY KEY,
            timestamp INTEGER NOT NULL,
            actor     TEXT    NOT NULL,
            action    TEXT    NOT NULL,
            details   TEXT    NOT NULL,
            prev_hash TEXT    NOT NULL,
            hash      TEXT    NOT NULL
        );
        """

    /// Indexes for `alerts.list`'s filters, and the management API's tokens
    /// (only their SHA-256 is stored; a name is unique among tokens not revoked).
    private static let v2 = """
        CREATE INDEX alerts_src_ip ON alerts (src_ip);
        CREATE INDEX alerts_dst_ip ON alerts (dst_ip);
        CREATE INDEX alerts_signature_id ON alerts (signature_id);

        CREATE TABLE api_tokens (
            id         INTEGER PRIMARY KEY,
            name       TEXT    NOT NULL,
            sha256     TEXT    NOT NULL UNIQUE,
            scopes     TEXT    NOT NULL,
            created    INTEGER NOT NULL,
            created_by TEXT    NOT NULL,
            revoked    INTEGER,
            revoked_by TEXT
        );
        CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked IS NULL;
        """
}
