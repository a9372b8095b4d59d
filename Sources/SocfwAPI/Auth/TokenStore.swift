import Synchronization

/// The tokens socfw-api accepts: an immutable snapshot swapped whole when
/// socfwd's `tokens.list` is fetched again (at connect, on each `token`
/// event, and periodically).
public final class TokenStore: Sendable {
    public enum Lookup: Sendable, Equatable {
        case valid(APIToken)
        case revoked(name: String)
        case unknown
        /// Tokens were never fetched: no answer either way; `reason` says why.
        case notLoaded(reason: String)
    }

    private let tokens = Mutex<[APIToken]?>(nil)
    /// Why the tokens were never fetched, for the 503 a caller gets meanwhile.
    private let notLoadedReason = Mutex("socfwd has not been reached since socfw-api started")

    public init() {}

    public func replace(with newTokens: [APIToken]) {
        tokens.withLock { $0 = newTokens }
    }

    /// Records why fetching failed; matters only while nothing was ever fetched.
    public func fetchFailed(_ reason: String) {
        notLoadedReason.withLock { $0 = reason }
    }

    public var isLoaded: Bool { tokens.withLock { $0 != nil } }

    /// Finds the token whose hash matches `presented`. Every stored hash is
    /// compared in full, in constant time, so timing tells nothing about
    /// how close a guess came or which entry matched.
    public func lookup(_ presented: Substring) -> Lookup {
        guard let snapshot = tokens.withLock({ $0 }) else { return .notLoaded(reason: notLoadedReason.withLock { $0 }) }
        let hash = BearerTokenFormat.hash(presented)
        var found: APIToken?
        for token in snapshot where Self.constantTimeEqual(token.sha256, hash) {
            found = token
        }
        guard let found else { return .unknown }
        return found.revoked ? .revoked(name: found.name) : .valid(found)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
