// socfwd's SQLite database: the source of truth for quarantine, alerts and the audit log.
//
// Design:
// - WAL mode. Readers (the control socket listing alerts, `--verify-audit`, the resync at
//   start) never block the writer and the writer never blocks them; a commit appends to
//   the -wal file instead of rewriting pages, and a crash leaves either the old or the new
//   transaction, never a torn one. GRDB's `DatabasePool` gives one writer connection and a
//   small pool of reader connections over it.
// - One writer. SQLite serialises writers anyway; doing so in-process (GRDB's writer queue,
//   `BEGIN IMMEDIATE`) avoids SQLITE_BUSY upgrades, and `StoreWriter` puts high-rate writes
//   (alerts, audit entries from the packet path) on one background thread that commits them
//   in batches, so a packet worker never waits for the disk and pays at most one fsync per
//   batch instead of one per alert.
// - Durability. `synchronous = FULL` by default: every commit survives a power cut, which
//   is what "the quarantine survives reboots without a gap" needs. Measured on the dev VM:
//   10,000 single-row audit appends take 2.0 s with FULL, 0.27 s with NORMAL (one fdatasync
//   per commit), while 10,000 alerts through `StoreWriter` take 0.05 s either way (batched),
//   so the cost only shows for unbatched writes, which run at operator rate. `durableCommits:
//   false` (`synchronous = NORMAL`) still survives a crash of socfwd but may lose the last
//   commits on power loss.
// - Audit hash chain. Each audit row stores SHA-256 over a length-prefixed encoding of its
//   own fields and the previous row's hash (see `AuditRecord.chainHash`). Verification
//   shows that no row was edited, deleted or inserted without every later row being
//   rewritten as well: an edited row no longer matches its hash, a deleted or inserted row
//   breaks the id sequence or the link to its neighbour, a row rewritten with a fresh hash
//   breaks its successor's link. The chain has no secret, so it cannot show that nobody
//   rewrote the whole tail with recomputed hashes or cut off the newest rows; that takes the
//   latest hash recorded somewhere else (logs, a remote collector), which the chain then
//   anchors.
// - Timestamps are Int64 nanoseconds since the Unix epoch everywhere, as in the rest of socfw.

internal import GRDB
import Foundation

/// socfwd's database: quarantine, alerts and the audit log in one SQLite file in WAL mode,
/// with versioned migrations applied at open.
///
/// Thread-safe: every method may be called from any thread; writes are serialised on
/// GRDB's writer queue, reads run concurrently on snapshots.
public final class SocfwStore: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path`.
    ///
    /// Creates the parent directory with mode 0750 and a new database file with mode 0640
    /// (SQLite gives its -wal and -shm files the same mode), then applies any pending
    /// migrations. Refuses a database written by a newer socfwd (unknown migrations).
    /// - Parameter durableCommits: `true` (default) syncs every commit to disk
    ///   (`synchronous = FULL`); `false` uses `synchronous = NORMAL`, faster, safe against a
    ///   crash of socfwd but not against a power cut.
    public init(path: String, durableCommits: Bool = true) throws(StoreError) {
        self.path = path
        try Self.prepareFile(path)
        var config = Configuration()
        config.label = "socfw"
        config.busyMode = .timeout(5)
        config.foreignKeysEnabled = true
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // After the pool is open: GRDB sets NORMAL on the writer when it enables WAL, after
            // `prepareDatabase` has run. `synchronous` is per connection; only the writer's matters.
            let synchronous = durableCommits ? "FULL" : "NORMAL"
            // A 32 MiB page cache for the writer (SQLite's default is 2 MiB): a bulk quarantine
            // inserts 100,000 random keys into the target index; with the small cache half the
            // time went to spilling and re-reading index pages (0.87 s -> see Docs/quarantine.md).
            try pool.writeWithoutTransaction {
                try $0.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA cache_size = -32768")
            }
        } catch {
            throw StoreError(path: path, operation: "open database", underlying: error)
        }
        let migrator = Schema.migrator
        do {
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StoreError(path: path, operation: "migrate",
                                 message: "the database was written by a newer socfwd (unknown migrations); refusing to use it")
            }
            try migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, operation: "migrate", underlying: error)
        }
    }

    /// Creates the parent directories (0750) and an empty database file (0640) when missing,
    /// so the modes do not depend on the process umask.
    private static func prepareFile(_ path: String) throws(StoreError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o750) == 0 {
                chmod(prefix, 0o750)
            } else if errno != EEXIST {
                throw StoreError(path: path, operation: "create directory \(prefix)", message: Self.lastError())
            }
        }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o640)
        if fd >= 0 {
            defer { close(fd) }
            if fchmod(fd, 0o640) != 0 {
                throw StoreError(path: path, operation: "set mode 0640", message: Self.lastError())
            }
        } else if errno != EEXIST {
            throw StoreError(path: path, operation: "create database file", message: Self.lastError())
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the writer connection.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.write(body)
        } catch {
            throw StoreError(path: path, operation: operation, underlying: error)
        }
    }

    /// Runs `body` on a reader connection, in a snapshot that concurrent writes do not change.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StoreError(path: path, operation: operation, underlying: error)
        }
    }
}
