import HTTPTypes
import Hummingbird

/// CORS for the configured origins only (Hummingbird's `CORSMiddleware`
/// answers every preflight with its allow-lists, whatever the origin; here
/// another origin gets no CORS header at all). A preflight (OPTIONS with
/// Access-Control-Request-Method) from an allowed origin is answered 204
/// before authentication is needed; from another origin, 403.
public struct CORSPolicyMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    let origins: Set<String>
    static let allowedMethods = "GET, POST, PUT, DELETE, OPTIONS"
    static let allowedHeaders = "Authorization, Content-Type, Accept"
    static let exposedHeaders = "Retry-After, WWW-Authenticate"

    public init(origins: [String]) {
        self.origins = Set(origins)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origin = request.headers[.origin]
        let isPreflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        guard let origin, origins.contains(origin) else {
            if isPreflight {
                throw Problem(.forbidden, kind: "cors-origin", title: "Origin not allowed",
                              detail: "this origin may not call the API (cors.origins)")
            }
            return try await next(request, context)
        }
        if isPreflight {
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: origin,
                .accessControlAllowMethods: Self.allowedMethods,
                .accessControlAllowHeaders: Self.allowedHeaders,
                .accessControlMaxAge: "600",
                .vary: "Origin",
            ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers[values: .vary].append("Origin")
        return response
    }
}
