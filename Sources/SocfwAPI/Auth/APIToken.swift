import Crypto
import Foundation

/// A token as socfwd's `tokens.list {"include_hashes":true}` describes it.
/// The secret itself is never stored: only its SHA-256.
public struct APIToken: Sendable, Equatable {
    public var name: String
    public var scopes: Set<Scope>
    /// SHA-256 of the whole token text (`socfw_…`), 32 bytes.
    public var sha256: [UInt8]
    public var revoked: Bool

    /// The strongest scope held; nested scopes make it the only one that matters.
    public var highestScope: Scope? { scopes.max() }

    public func allows(_ needed: Scope) -> Bool {
        guard let highestScope else { return false }
        return highestScope >= needed
    }

    /// Parses one entry of `tokens.list`; nil (skipped) when it has no usable hash.
    init?(listEntry entry: JSONValue) {
        guard let name = entry["name"]?.string,
              let hex = entry["sha256"]?.string,
              let hash = Self.bytes(hex: hex), hash.count == 32
        else { return nil }
        self.name = name
        self.scopes = Set((entry["scopes"]?.array ?? []).compactMap { $0.string.flatMap(Scope.init(rawValue:)) })
        self.sha256 = hash
        let revokedAt = entry["revoked_ns"]
        self.revoked = revokedAt != nil && revokedAt != .null
    }

    public init(name: String, scopes: Set<Scope>, sha256: [UInt8], revoked: Bool = false) {
        self.name = name
        self.scopes = scopes
        self.sha256 = sha256
        self.revoked = revoked
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The shape of a bearer token: `socfw_` and 43 base64url characters (32 random bytes).
public enum BearerTokenFormat {
    public static let prefix = "socfw_"
    public static let secretLength = 43

    public static func isWellFormed(_ token: Substring) -> Bool {
        guard token.hasPrefix(prefix) else { return false }
        let secret = token.utf8.dropFirst(prefix.utf8.count)
        return secret.count == secretLength && secret.allSatisfy { c in
            (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
    }

    /// The hash socfwd stores for a token: SHA-256 of its UTF-8 text, prefix included.
    public static func hash(_ token: Substring) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}
