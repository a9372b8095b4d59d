import HTTPTypes
import Hummingbird

/// Token-bucket rate limiting per client address (every request, so
/// guessing tokens is slowed too) and per token (after authentication).
/// Over the limit: 429 with `Retry-After` in seconds, as problem+json.
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    let perToken: TokenBuckets
    let perAddress: TokenBuckets

    public init(configuration: APIConfig.RateLimit) {
        self.perToken = TokenBuckets(configuration.perToken)
        self.perAddress = TokenBuckets(configuration.perAddress)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if case let .limited(seconds) = perAddress.take(context.clientAddress) {
            return Self.tooManyRequests(retryAfter: seconds, detail: "too many requests from this address").response()
        }
        if let name = context.credential.tokenName, case let .limited(seconds) = perToken.take(name) {
            return Self.tooManyRequests(retryAfter: seconds, detail: "too many requests with token '\(name)'").response()
        }
        return try await next(request, context)
    }

    static func tooManyRequests(retryAfter: Int, detail: String) -> Problem {
        Problem(.tooManyRequests, kind: "rate-limited", title: "Too many requests",
                detail: "\(detail); retry after \(retryAfter) s", headers: [.retryAfter: String(retryAfter)])
    }
}
