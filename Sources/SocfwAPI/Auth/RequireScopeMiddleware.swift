import Hummingbird

/// Lets a request through only with a valid token holding `scope`:
/// 401 (with WWW-Authenticate) for a missing, malformed, unknown or revoked
/// token, 403 for a token without the scope, 503 while socfwd was never
/// reached (the tokens are unknown).
public struct RequireScopeMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    let scope: Scope

    public init(_ scope: Scope) {
        self.scope = scope
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch context.credential {
        case .none:
            throw Problem.unauthorized("a bearer token is required")
        case let .invalid(reason):
            throw Problem.unauthorized(reason)
        case .revoked:
            throw Problem.unauthorized("the token has been revoked")
        case let .unverifiable(reason):
            throw Problem(.serviceUnavailable, kind: "tokens-unavailable", title: "Tokens unavailable",
                          detail: "tokens cannot be checked yet: \(reason)", headers: [.retryAfter: "1"])
        case let .token(token):
            guard token.allows(scope) else {
                throw Problem.forbidden("this operation needs the '\(scope.rawValue)' scope; token '\(token.name)' has \(token.scopes.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            return try await next(request, context)
        }
    }
}

extension RouterMethods where Context == APIRequestContext {
    /// A group of routes that need `scope`.
    func requiring(_ scope: Scope) -> RouterGroup<Context> {
        group().add(middleware: RequireScopeMiddleware(scope))
    }
}
