import Foundation
internal import Crypto
internal import GRDB

/// The management API's bearer tokens: `socfw_` and 43 base64url characters
/// (32 random bytes from the kernel's generator); stored only as SHA-256.
public enum APIToken {
    public static let scopes = ["read", "operate", "admin"]
    public static let prefix = "socfw_"

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // base64url without padding (RFC 4648 §5).
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + base64
    }

    /// Lowercase hex SHA-256 of the token's UTF-8 text.
    public static func sha256(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).lowercaseHex
    }
}

/// A management-API token: only its SHA-256 is kept (the secret is shown once, at creation).
public struct APITokenRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// Lowercase hex SHA-256 of the whole token text.
    public var sha256: String
    public var scopes: [String]
    /// ns since the epoch.
    public var created: Int64
    public var createdBy: String
    public var revoked: Int64?
    public var revokedBy: String?

    public init(id: Int64 = 0, name: String, sha256: String, scopes: [String], created: Int64, createdBy: String,
                revoked: Int64? = nil, revokedBy: String? = nil) {
        self.id = id
        self.name = name
        self.sha256 = sha256
        self.scopes = scopes
        self.created = created
        self.createdBy = createdBy
        self.revoked = revoked
        self.revokedBy = revokedBy
    }

    init(row: Row) throws {
        let scopes: String = try row.decode(forColumn: "scopes")
        self.init(id: try row.decode(forColumn: "id"), name: try row.decode(forColumn: "name"),
                  sha256: try row.decode(forColumn: "sha256"),
                  scopes: scopes.split(separator: ",").map(String.init),
                  created: try row.decode(forColumn: "created"), createdBy: try row.decode(forColumn: "created_by"),
                  revoked: try row.decode(forColumn: "revoked"), revokedBy: try row.decode(forColumn: "revoked_by"))
    }
}

extension SocfwStore {
    /// Stores a new token. Returns nil when a token that is not revoked already has that name.
    public func insertToken(_ t: APITokenRecord) throws(StoreError) -> APITokenRecord? {
        try write("create token \(t.name)") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ? AND revoked IS NULL",
                                 arguments: [t.name]) == true {
                return nil
            }
            try db.execute(sql: """
                INSERT INTO api_tokens (name, sha256, scopes, created, created_by) VALUES (?, ?, ?, ?, ?)
                """, arguments: [t.name, t.sha256, t.scopes.joined(separator: ","), t.created, t.createdBy])
            var stored = t
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    /// Revokes the live token called `name`; nil when there is none.
    public func revokeToken(name: String, by actor: String, at time: Int64) throws(StoreError) -> APITokenRecord? {
        try write("revoke token \(name)") { db in
            try Row.fetchOne(db, sql: """
                UPDATE api_tokens SET revoked = ?, revoked_by = ? WHERE name = ? AND revoked IS NULL RETURNING *
                """, arguments: [time, actor, name]).map(APITokenRecord.init(row:))
        }
    }

    /// Every token, oldest first (revoked ones too, with `includeRevoked`).
    public func tokens(includeRevoked: Bool) throws(StoreError) -> [APITokenRecord] {
        try read("list tokens") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_tokens \(includeRevoked ? "" : "WHERE revoked IS NULL") ORDER BY id")
                .map(APITokenRecord.init(row:))
        }
    }
}
