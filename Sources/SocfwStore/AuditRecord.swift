internal import Crypto
internal import GRDB

/// One row of `audit_log`: a mutating action (quarantine, release, rule or config change,
/// reload), chained to the row before it by `prevHash`.
public struct AuditRecord: Sendable, Equatable, Codable {
    /// 1, 2, 3, ... with no gaps: a gap is a deleted row.
    public var id: Int64
    /// ns since the epoch.
    public var timestamp: Int64
    /// Who did it: `operator:alice`, `api`, `socfwd`, `detector:portscan`, ...
    public var actor: String
    /// What was done: `quarantine`, `release`, `reload`, ...
    public var action: String
    /// JSON text with the particulars (target, duration, rule id, ...).
    public var details: String
    /// The previous row's `hash`; `genesisHash` for the first row.
    public var prevHash: String
    /// `chainHash` of this row's fields.
    public var hash: String

    public init(id: Int64, timestamp: Int64, actor: String, action: String, details: String,
                prevHash: String, hash: String) {
        self.id = id
        self.timestamp = timestamp
        self.actor = actor
        self.action = action
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }

    /// `prevHash` of the first row: 64 zeros.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Lowercase hex SHA-256 over the canonical encoding of a row:
    ///
    ///     field("socfw-audit-v1") field(id) field(timestamp) field(actor) field(action)
    ///     field(details) field(prevHash)
    ///
    /// where `field(x)` is the byte length of x as a big-endian UInt64 followed by x's bytes,
    /// integers being 8 big-endian bytes and strings their UTF-8. The length prefixes make the
    /// encoding injective: no two different rows encode to the same bytes (`"ab","c"` and
    /// `"a","bc"` differ), so a hash match means the fields are exactly the ones hashed.
    /// Public so that the log can be checked by tools other than `verifyAudit`.
    public static func chainHash(id: Int64, timestamp: Int64, actor: String, action: String,
                                 details: String, prevHash: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96 + actor.utf8.count + action.utf8.count + details.utf8.count + prevHash.utf8.count)
        func field(_ content: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt64(content.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: content)
        }
        func field(_ value: Int64) {
            withUnsafeBytes(of: value.bigEndian) { field(Array($0)) }
        }
        field("socfw-audit-v1".utf8)
        field(id)
        field(timestamp)
        field(actor.utf8)
        field(action.utf8)
        field(details.utf8)
        field(prevHash.utf8)
        return SHA256.hash(data: bytes).lowercaseHex
    }

    init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"),
            timestamp: try row.decode(forColumn: "timestamp"),
            actor: try row.decode(forColumn: "actor"),
            action: try row.decode(forColumn: "action"),
            details: try row.decode(forColumn: "details"),
            prevHash: try row.decode(forColumn: "prev_hash"),
            hash: try row.decode(forColumn: "hash"))
    }
}

/// The outcome of `SocfwStore.verifyAudit()`.
public enum AuditVerification: Sendable, Equatable, CustomStringConvertible {
    /// Every row present matches its hash and links to the row before it.
    case intact(rows: Int)
    /// The first place the chain fails: the row edited, deleted or inserted, and why.
    case broken(rowID: Int64, reason: String)

    public var description: String {
        switch self {
        case .intact(let rows): "audit log intact (\(rows) rows)"
        case .broken(let rowID, let reason): "audit log broken at row \(rowID): \(reason)"
        }
    }
}

extension SHA256.Digest {
    /// The digest as 64 lowercase hex digits (audit chain, API token hashes).
    var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
