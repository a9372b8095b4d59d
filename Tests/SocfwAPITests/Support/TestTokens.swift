import Crypto
import Foundation
import Synchronization
import SocfwAPI

/// Fixed test tokens, one per scope, and socfwd's table of them (hashes
/// only, as `tokens.list {"include_hashes":true}` returns them).
enum TestTokens {
    static let read = "socfw_" + String(repeating: "R", count: 43)
    static let operate = "socfw_" + String(repeating: "o", count: 43)
    static let admin = "socfw_" + String(repeating: "A", count: 42) + "_"
    static let revoked = "socfw_" + String(repeating: "x", count: 43)
    /// Well-formed, but socfwd never issued it.
    static let unknown = "socfw_" + String(repeating: "u", count: 43)

    static func sha256Hex(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// socfwd's token table, which a test can change (then emit a `token` event).
final class TokenTable: Sendable {
    struct Entry: Sendable {
        var name: String
        var scopes: [String]
        var token: String
        var revokedNanoseconds: Int64?
    }

    private let entries = Mutex<[Entry]>([
        Entry(name: "reader", scopes: ["read"], token: TestTokens.read),
        Entry(name: "operator", scopes: ["operate"], token: TestTokens.operate),
        Entry(name: "admin", scopes: ["admin"], token: TestTokens.admin),
        Entry(name: "old", scopes: ["admin"], token: TestTokens.revoked, revokedNanoseconds: 1_700_000_000_000_000_000),
    ])

    func revoke(_ name: String) {
        entries.withLock { entries in
            for index in entries.indices where entries[index].name == name { entries[index].revokedNanoseconds = 1_800_000_000_000_000_000 }
        }
    }

    func list(includeHashes: Bool) -> JSONValue {
        let rows = entries.withLock { $0 }.map { entry -> JSONValue in
            var object: [String: JSONValue] = [
                "name": .string(entry.name), "scopes": .array(entry.scopes.map { .string($0) }),
                "created_ns": 1_600_000_000_000_000_000, "revoked_ns": entry.revokedNanoseconds.map { .int($0) } ?? .null,
            ]
            if includeHashes { object["sha256"] = .string(TestTokens.sha256Hex(entry.token)) }
            return .object(object)
        }
        return ["tokens": .array(rows)]
    }
}
