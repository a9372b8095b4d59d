import Synchronization

/// Token buckets keyed by a string (a token name, a client address).
/// A key's bucket starts full (`burst`) and refills at `ratePerSecond`.
public final class TokenBuckets: Sendable {
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused: a request will be allowed again after this many seconds.
        case limited(retryAfterSeconds: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let ratePerSecond: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Idle buckets are full again after burst/rate seconds; past that they are forgotten.
    private let maxEntries = 100_000

    public init(_ bucket: APIConfig.Bucket) {
        self.ratePerSecond = bucket.ratePerSecond
        self.burst = bucket.burst
    }

    public func take(_ key: String, now: ContinuousClock.Instant = .now) -> Decision {
        buckets.withLock { buckets in
            if buckets.count >= maxEntries { Self.forgetFull(&buckets, now: now, rate: ratePerSecond, burst: burst) }
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = (now - bucket.updated).seconds
            bucket.tokens = min(burst, bucket.tokens + elapsed * ratePerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return .allowed
            }
            let wait = (1 - bucket.tokens) / ratePerSecond
            return .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
    }

    private static func forgetFull(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant, rate: Double, burst: Double) {
        buckets = buckets.filter { _, bucket in bucket.tokens + (now - bucket.updated).seconds * rate < burst }
    }
}
