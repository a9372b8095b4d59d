internal import GRDB

/// A storage problem, located precisely enough to act on:
/// `/var/lib/socfw/socfw.db: open database: file is not a database (SQLite code 26)`.
public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database file the operation was about.
    public var path: String
    /// What the store was doing: `create directory /var/lib/socfw`, `open database`,
    /// `migrate`, `insert quarantine`, ...
    public var operation: String
    /// Why it failed, as SQLite or the OS put it.
    public var message: String

    public init(path: String, operation: String, message: String) {
        self.path = path
        self.operation = operation
        self.message = message
    }

    /// Wraps whatever GRDB, SQLite or Foundation threw; keeps a `StoreError` as it is.
    init(path: String, operation: String, underlying error: any Error) {
        if let error = error as? StoreError {
            self = error
            return
        }
        let message: String
        if let error = error as? DatabaseError {
            message = "\(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
        } else {
            message = String(describing: error)
        }
        self.init(path: path, operation: operation, message: message)
    }

    public var description: String { "\(path): \(operation): \(message)" }
}

/// A row whose column holds a value the schema forbids (possible only if the file was
/// edited behind the store's back); wrapped into a `StoreError` by the caller.
struct MalformedRow: Error, CustomStringConvertible {
    var table: String
    var column: String
    var value: String

    var description: String { "malformed row in \(table): column \(column) holds \(value)" }
}
