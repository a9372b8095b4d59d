import HTTPTypes
import Hummingbird

/// Finds out who is calling (Authorization: Bearer, or for a browser's
/// WebSocket the subprotocol `bearer.<token>`) and records it in the
/// context; it rejects nothing itself except a token in the query string
/// (400: URLs end up in logs and browser history). Routes that need a
/// scope say so with `RequireScopeMiddleware`, so CORS preflights and
/// /health pass without a token.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    let tokens: TokenStore

    public init(tokens: TokenStore) {
        self.tokens = tokens
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let query = request.uri.queryParameters
        if query["token"] != nil || query["access_token"] != nil {
            return Problem.validation(pointer: "/query/\(query["token"] != nil ? "token" : "access_token")",
                                      "tokens are not accepted in the query string; send 'Authorization: Bearer <token>'").response()
        }
        var context = context
        context.credential = credential(for: request)
        return try await next(request, context)
    }

    func credential(for request: Request) -> Credential {
        let presented: Substring
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                return .invalid(reason: "the Authorization header must be 'Bearer <token>'")
            }
            presented = parts[1].drop(while: { $0 == " " })
        } else if let token = Self.subprotocolToken(request) {
            presented = token
        } else {
            return .none
        }
        guard BearerTokenFormat.isWellFormed(presented) else {
            return .invalid(reason: "malformed token: expected socfw_ followed by 43 base64url characters")
        }
        switch tokens.lookup(presented) {
        case let .valid(token): return .token(token)
        case let .revoked(name): return .revoked(name: name)
        case .unknown: return .invalid(reason: "unknown token")
        case let .notLoaded(reason): return .unverifiable(reason: reason)
        }
    }

    /// Browsers cannot set headers on a WebSocket; they offer
    /// `Sec-WebSocket-Protocol: socfw.v1, bearer.<token>` instead (Docs/api.md).
    static func subprotocolToken(_ request: Request) -> Substring? {
        guard request.headers[.upgrade]?.lowercased() == "websocket",
              let offered = request.headers[.secWebSocketProtocol] else { return nil }
        for item in offered.split(separator: ",") {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("bearer.") { return Substring(trimmed.dropFirst("bearer.".count)) }
        }
        return nil
    }
}
